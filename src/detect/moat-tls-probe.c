/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The TLS interception probe: Moat's own handshakes with well-known hosts,
 * checked against the trust store, the host name and SPKI pins. Each target
 * runs on its own worker thread with a deadline that bounds the connect, the
 * name lookup and the handshake together.
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-tls-probe.h"

#include "moat-error.h"
#include "moat-host.h"
#include "moat-tls-private.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define DETECTOR "tls"
#define THREAT_ID "network.tls_interception"
#define MAX_TARGETS 64
#define MAX_PINS 16
#define MAX_PARALLEL 8
#define MAX_TIMEOUT_MS (5 * 60 * 1000)

typedef struct {
  char      *host;    /* canonical */
  guint16    port;
  char      *address; /* nullable, canonical IP to connect to */
  GPtrArray *pins;    /* of char *, "sha256/BASE64" */
} Target;

struct _MoatTlsProbeOptions {
  GPtrArray *targets; /* owned, of Target */
  char      *ca_file; /* nullable: the system store */
  guint      timeout_ms;
};

typedef struct {
  /* owned */
  MoatTlsProbeOptions              *options;
  gnutls_certificate_credentials_t  cred;
  MoatFinding                     **findings;
  /* borrowed */
  GCancellable                     *cancellable;
  gboolean                          trust_empty;
  gint                              next;     /* atomic: the next target to check */
} RunData;

/* What the transport saw, for the reason of an inconclusive finding. */
typedef struct {
  GSocket      *socket;
  GCancellable *cancellable;
  gint64        deadline;
  gboolean      timed_out;
  gboolean      cancelled;
} Io;

typedef struct {
  GSocketConnection *connection;
  GError            *error;
  gboolean           done;
  gboolean           timed_out;
  GCancellable      *cancellable;
} ConnectData;

static void
target_free (Target *target)
{
  if (target == NULL)
    return;
  g_free (target->host);
  g_free (target->address);
  g_clear_pointer (&target->pins, g_ptr_array_unref);
  g_free (target);
}

static Target *
target_copy (const Target *target)
{
  Target *copy = g_new0 (Target, 1);

  copy->host = g_strdup (target->host);
  copy->port = target->port;
  copy->address = g_strdup (target->address);
  copy->pins = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < target->pins->len; i++)
    g_ptr_array_add (copy->pins, g_strdup (g_ptr_array_index (target->pins, i)));
  return copy;
}

static char *
target_subject (const Target *target)
{
  if (strchr (target->host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", target->host, target->port);
  return g_strdup_printf ("%s:%u", target->host, target->port);
}

static void
run_data_free (RunData *run)
{
  if (run->findings != NULL)
    {
      for (guint i = 0; i < run->options->targets->len; i++)
        moat_finding_free (run->findings[i]);
      g_free (run->findings);
    }
  g_clear_pointer (&run->cred, gnutls_certificate_free_credentials);
  moat_tls_probe_options_free (run->options);
  g_free (run);
}

/* Certificate helpers (moat-tls-private.h) */

void
moat_tls_trust_list_free (gnutls_x509_trust_list_t list)
{
  gnutls_x509_trust_list_deinit (list, 1);
}

char *
moat_tls_crt_sha256 (gnutls_x509_crt_t crt)
{
  guint8 digest[32];
  size_t size = sizeof digest;
  GString *hex;

  if (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest, &size) < 0
      || size != sizeof digest)
    return NULL;
  hex = g_string_sized_new (64);
  for (gsize i = 0; i < size; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  return g_string_free (hex, FALSE);
}

char *
moat_tls_crt_spki_pin (gnutls_x509_crt_t crt)
{
  g_auto(gnutls_pubkey_t) pubkey = NULL;
  gnutls_datum_t der = { NULL, 0 };
  g_autoptr(GChecksum) checksum = NULL;
  guint8 digest[32];
  gsize size = sizeof digest;
  g_autofree char *base64 = NULL;

  if (gnutls_pubkey_init (&pubkey) < 0)
    return NULL;
  if (gnutls_pubkey_import_x509 (pubkey, crt, 0) < 0
      || gnutls_pubkey_export2 (pubkey, GNUTLS_X509_FMT_DER, &der) < 0)
    return NULL;
  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (checksum, der.data, der.size);
  gnutls_free (der.data);
  g_checksum_get_digest (checksum, digest, &size);
  base64 = g_base64_encode (digest, size);
  return g_strconcat ("sha256/", base64, NULL);
}

static char *
datum_to_string (gnutls_datum_t *datum)
{
  char *text;

  /* A DN may hold any bytes; evidence is JSON text, so keep it valid UTF-8. */
  text = g_utf8_make_valid ((const char *) datum->data, datum->size);
  gnutls_free (datum->data);
  return text;
}

char *
moat_tls_crt_subject_dn (gnutls_x509_crt_t crt)
{
  gnutls_datum_t dn = { NULL, 0 };

  if (gnutls_x509_crt_get_dn3 (crt, &dn, 0) < 0)
    return g_strdup ("");
  return datum_to_string (&dn);
}

char *
moat_tls_crt_issuer_dn (gnutls_x509_crt_t crt)
{
  gnutls_datum_t dn = { NULL, 0 };

  if (gnutls_x509_crt_get_issuer_dn3 (crt, &dn, 0) < 0)
    return g_strdup ("");
  return datum_to_string (&dn);
}

static char *
crt_dn_part (gnutls_x509_crt_t crt,
             gboolean          issuer,
             const char       *oid)
{
  char buf[256];
  size_t size = sizeof buf - 1;
  int ret;

  if (issuer)
    ret = gnutls_x509_crt_get_issuer_dn_by_oid (crt, oid, 0, 0, buf, &size);
  else
    ret = gnutls_x509_crt_get_dn_by_oid (crt, oid, 0, 0, buf, &size);
  if (ret < 0 || size == 0)
    return NULL;
  buf[MIN (size, sizeof buf - 1)] = '\0';
  return g_utf8_make_valid (buf, -1);
}

/* The name people know a certificate's subject or issuer by: its common
 * name, else its organisation, else the whole DN. */
char *
moat_tls_crt_display_name (gnutls_x509_crt_t crt,
                           gboolean          issuer)
{
  char *name;

  name = crt_dn_part (crt, issuer, GNUTLS_OID_X520_COMMON_NAME);
  if (name == NULL)
    name = crt_dn_part (crt, issuer, GNUTLS_OID_X520_ORGANIZATION_NAME);
  if (name == NULL)
    name = issuer ? moat_tls_crt_issuer_dn (crt) : moat_tls_crt_subject_dn (crt);
  if (name == NULL || *name == '\0')
    {
      g_free (name);
      name = g_strdup ("?");
    }
  return name;
}

/* Options */

/**
 * moat_tls_probe_options_new:
 *
 * Returns: (transfer full): options with no targets, the system trust store
 *   and a 5 s timeout per target
 */
MoatTlsProbeOptions *
moat_tls_probe_options_new (void)
{
  MoatTlsProbeOptions *options = g_new0 (MoatTlsProbeOptions, 1);

  options->targets = g_ptr_array_new_with_free_func ((GDestroyNotify) target_free);
  options->timeout_ms = MOAT_TLS_PROBE_DEFAULT_TIMEOUT_MS;
  return options;
}

MoatTlsProbeOptions *
moat_tls_probe_options_copy (const MoatTlsProbeOptions *options)
{
  MoatTlsProbeOptions *copy;

  g_return_val_if_fail (options != NULL, NULL);

  copy = moat_tls_probe_options_new ();
  for (guint i = 0; i < options->targets->len; i++)
    g_ptr_array_add (copy->targets, target_copy (g_ptr_array_index (options->targets, i)));
  copy->ca_file = g_strdup (options->ca_file);
  copy->timeout_ms = options->timeout_ms;
  return copy;
}

void
moat_tls_probe_options_free (MoatTlsProbeOptions *options)
{
  if (options == NULL)
    return;
  g_ptr_array_unref (options->targets);
  g_free (options->ca_file);
  g_free (options);
}

/**
 * moat_tls_pin_normalize:
 * @pin: an SPKI pin: `sha256/BASE64` (also `sha256//BASE64`, as curl's
 *   --pinnedpubkey writes it), the base64 SHA-256 of the DER
 *   SubjectPublicKeyInfo
 * @error: %MOAT_ERROR_INVALID_ARGUMENT on refusal
 *
 * Returns: (transfer full) (nullable): the pin as `sha256/BASE64`
 */
char *
moat_tls_pin_normalize (const char  *pin,
                        GError     **error)
{
  const char *b64;
  gsize len = 0;
  g_autofree guint8 *digest = NULL;
  g_autofree char *canonical = NULL;

  if (pin == NULL || !g_str_has_prefix (pin, "sha256/"))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Pin “%s” does not start with sha256/", pin != NULL ? pin : "");
      return NULL;
    }
  b64 = pin + strlen ("sha256/");
  /* curl's "sha256//": the extra slash is the separator, unless the base64
   * itself starts with one (a digest whose first six bits are 63). */
  if (*b64 == '/' && strlen (b64) == 45)
    b64++;
  /* 32 bytes are 44 base64 characters, one '=' of padding. */
  if (strlen (b64) != 44 || strspn (b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789+/=") != 44
      || strchr (b64, '=') != b64 + 43)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Pin “%s” is not the base64 of a SHA-256 digest", pin);
      return NULL;
    }
  digest = g_base64_decode (b64, &len);
  canonical = g_base64_encode (digest, len);
  if (len != 32 || strcmp (canonical, b64) != 0)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Pin “%s” is not the base64 of a SHA-256 digest", pin);
      return NULL;
    }
  return g_strconcat ("sha256/", b64, NULL);
}

/**
 * moat_tls_spki_pin_from_der:
 * @cert_der: a DER X.509 certificate
 * @error: %MOAT_ERROR_INVALID_ARGUMENT when it does not parse
 *
 * Returns: (transfer full) (nullable): the certificate's SPKI pin,
 *   `sha256/BASE64`
 */
char *
moat_tls_spki_pin_from_der (const guint8  *cert_der,
                            gsize          len,
                            GError       **error)
{
  g_auto(gnutls_x509_crt_t) crt = NULL;
  gnutls_datum_t datum = { (unsigned char *) cert_der, (unsigned int) len };
  char *pin = NULL;
  int ret;

  if (len > G_MAXUINT || gnutls_x509_crt_init (&crt) < 0)
    ret = GNUTLS_E_MEMORY_ERROR;
  else
    ret = gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER);
  if (ret >= 0)
    pin = moat_tls_crt_spki_pin (crt);
  if (pin == NULL)
    g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                 "Not a certificate: %s", gnutls_strerror (ret < 0 ? ret : GNUTLS_E_INTERNAL_ERROR));
  return pin;
}

/**
 * moat_tls_probe_options_add_target:
 * @host: a host name or IP address (with or without brackets)
 * @port: the port, or 0 for 443
 * @address: (nullable): an IP address to connect to instead of resolving
 *   @host (tests, pinning); SNI and the name check still use @host
 * @pins: (nullable) (array zero-terminated=1): SPKI pins, see
 *   moat_tls_pin_normalize(); when given, one certificate of the verified
 *   chain must match one of them
 * @error: %MOAT_ERROR_INVALID_ARGUMENT on refusal
 *
 * Returns: %TRUE if the target was added
 */
gboolean
moat_tls_probe_options_add_target (MoatTlsProbeOptions *options,
                                   const char          *host,
                                   guint16              port,
                                   const char          *address,
                                   const char * const  *pins,
                                   GError             **error)
{
  g_autoptr(GPtrArray) normalized = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *canonical = NULL;
  g_autofree char *canonical_address = NULL;
  Target *target;

  g_return_val_if_fail (options != NULL, FALSE);

  if (options->targets->len >= MAX_TARGETS)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                   "At most %u TLS targets", MAX_TARGETS);
      return FALSE;
    }
  canonical = moat_host_normalize (host, -1, NULL, error);
  if (canonical == NULL)
    return FALSE;
  if (address != NULL)
    {
      MoatHostKind kind;

      canonical_address = moat_host_normalize (address, -1, &kind, error);
      if (canonical_address == NULL)
        return FALSE;
      if (kind == MOAT_HOST_KIND_NAME)
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       "Address “%s” is not an IP address", address);
          return FALSE;
        }
    }
  for (guint i = 0; pins != NULL && pins[i] != NULL; i++)
    {
      char *pin;

      if (i >= MAX_PINS)
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                       "At most %u pins per target", MAX_PINS);
          return FALSE;
        }
      pin = moat_tls_pin_normalize (pins[i], error);
      if (pin == NULL)
        return FALSE;
      g_ptr_array_add (normalized, pin);
    }

  target = g_new0 (Target, 1);
  target->host = g_steal_pointer (&canonical);
  target->port = port != 0 ? port : MOAT_TLS_PROBE_DEFAULT_PORT;
  target->address = g_steal_pointer (&canonical_address);
  target->pins = g_steal_pointer (&normalized);
  g_ptr_array_add (options->targets, target);
  return TRUE;
}

/**
 * moat_tls_probe_options_add_target_spec:
 * @spec: `host[:port][@address][#pin[#pin…]]`, IPv6 hosts and addresses in
 *   brackets, e.g. `example.com:8443@[::1]#sha256/AbC…=`
 * @error: %MOAT_ERROR_INVALID_ARGUMENT on refusal
 *
 * Parses @spec and adds the target, as moat_tls_probe_options_add_target().
 *
 * Returns: %TRUE if the target was added
 */
gboolean
moat_tls_probe_options_add_target_spec (MoatTlsProbeOptions *options,
                                        const char          *spec,
                                        GError             **error)
{
  g_auto(GStrv) parts = NULL;
  g_autofree char *authority = NULL;
  g_autofree char *address = NULL;
  g_autofree char *host = NULL;
  char *at;
  guint16 port = 0;

  g_return_val_if_fail (options != NULL, FALSE);

  if (spec == NULL || *spec == '\0' || *spec == '#')
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, "TLS target is empty");
      return FALSE;
    }
  parts = g_strsplit (spec, "#", -1);
  authority = g_strdup (parts[0]);
  at = strchr (authority, '@');
  if (at != NULL)
    {
      *at = '\0';
      address = g_strdup (at + 1);
      if (*address == '\0')
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       "TLS target “%s” has an empty address", spec);
          return FALSE;
        }
    }
  if (!moat_host_split_authority (authority, &host, &port, error))
    {
      g_prefix_error (error, "TLS target “%s”: ", spec);
      return FALSE;
    }
  for (guint i = 1; parts[i] != NULL; i++)
    if (*parts[i] == '\0')
      {
        g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                     "TLS target “%s” has an empty pin", spec);
        return FALSE;
      }
  if (!moat_tls_probe_options_add_target (options, host, port, address,
                                          (const char * const *) parts + 1, error))
    {
      g_prefix_error (error, "TLS target “%s”: ", spec);
      return FALSE;
    }
  return TRUE;
}

guint
moat_tls_probe_options_get_n_targets (const MoatTlsProbeOptions *options)
{
  g_return_val_if_fail (options != NULL, 0);

  return options->targets->len;
}

/**
 * moat_tls_probe_options_set_ca_file:
 * @path: (nullable): a PEM file of the CAs to trust instead of the system
 *   trust store, or %NULL for the system store
 */
void
moat_tls_probe_options_set_ca_file (MoatTlsProbeOptions *options,
                                    const char          *path)
{
  g_return_if_fail (options != NULL);

  g_free (options->ca_file);
  options->ca_file = g_strdup (path);
}

/**
 * moat_tls_probe_options_set_timeout:
 * @timeout_ms: how long one target may take, connect and handshake together;
 *   0 restores the default (5 s); at most five minutes
 */
void
moat_tls_probe_options_set_timeout (MoatTlsProbeOptions *options,
                                    guint                timeout_ms)
{
  g_return_if_fail (options != NULL);

  options->timeout_ms = timeout_ms == 0 ? MOAT_TLS_PROBE_DEFAULT_TIMEOUT_MS
                                        : MIN (timeout_ms, MAX_TIMEOUT_MS);
}

/* Transport: GnuTLS reads and writes through the GSocket, never past the
 * deadline, and stops when the check is cancelled. */

static gboolean
io_wait (Io           *io,
         GIOCondition  condition,
         gint64        limit_us)
{
  g_autoptr(GError) error = NULL;
  gint64 until_deadline = io->deadline - g_get_monotonic_time ();
  gboolean deadline_bound = limit_us < 0 || until_deadline <= limit_us;
  gint64 remaining = deadline_bound ? until_deadline : limit_us;

  if (remaining <= 0)
    {
      io->timed_out = deadline_bound;
      errno = ETIMEDOUT;
      return FALSE;
    }
  if (g_socket_condition_timed_wait (io->socket, condition, remaining, io->cancellable, &error))
    return TRUE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      io->cancelled = TRUE;
      errno = ECANCELED;
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      io->timed_out = deadline_bound;
      errno = ETIMEDOUT;
    }
  else
    errno = EIO;
  return FALSE;
}

static ssize_t
io_pull (gnutls_transport_ptr_t  ptr,
         void                   *buf,
         size_t                  len)
{
  Io *io = ptr;
  g_autoptr(GError) error = NULL;
  gssize n;

  if (!io_wait (io, G_IO_IN, -1))
    return -1;
  n = g_socket_receive (io->socket, buf, len, io->cancellable, &error);
  if (n < 0)
    {
      errno = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? EAGAIN : ECONNRESET;
      return -1;
    }
  return n;
}

static ssize_t
io_push (gnutls_transport_ptr_t  ptr,
         const void             *buf,
         size_t                  len)
{
  Io *io = ptr;
  g_autoptr(GError) error = NULL;
  gssize n;

  if (!io_wait (io, G_IO_OUT, -1))
    return -1;
  n = g_socket_send (io->socket, buf, len, io->cancellable, &error);
  if (n < 0)
    {
      errno = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? EAGAIN : EPIPE;
      return -1;
    }
  return n;
}

static int
io_pull_timeout (gnutls_transport_ptr_t ptr,
                 unsigned int           ms)
{
  Io *io = ptr;
  gint64 limit = ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (gint64) ms * 1000;

  if (ms == 0)
    return g_socket_condition_check (io->socket, G_IO_IN) != 0 ? 1 : 0;
  if (io_wait (io, G_IO_IN, limit))
    return 1;
  return errno == ETIMEDOUT && !io->timed_out ? 0 : -1;
}

/* Connecting: GSocketClient on a private main context, so the lookup and the
 * connect attempts stop at the deadline or on cancel. */

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ConnectData *data = user_data;

  data->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result,
                                                     &data->error);
  data->done = TRUE;
}

static gboolean
on_connect_deadline_cb (gpointer user_data)
{
  ConnectData *data = user_data;

  data->timed_out = TRUE;
  g_cancellable_cancel (data->cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
on_parent_cancelled_cb (GCancellable *parent,
                        gpointer      user_data)
{
  ConnectData *data = user_data;

  g_cancellable_cancel (data->cancellable);
  return G_SOURCE_REMOVE;
}

static GSocketConnection *
connect_sync (const Target  *target,
              gint64         deadline,
              GCancellable  *cancellable,
              gboolean      *timed_out,
              GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) connectable = NULL;
  g_autoptr(GCancellable) child = g_cancellable_new ();
  g_autoptr(GSource) deadline_source = NULL;
  g_autoptr(GSource) cancel_source = NULL;
  ConnectData data = { NULL, NULL, FALSE, FALSE, child };
  gint64 remaining_ms = (deadline - g_get_monotonic_time ()) / 1000;

  g_main_context_push_thread_default (context);

  /* Moat's own filtering proxy, or any other, must not stand in the way. */
  g_socket_client_set_enable_proxy (client, FALSE);
  if (target->address != NULL)
    connectable = G_SOCKET_CONNECTABLE (g_inet_socket_address_new_from_string (target->address,
                                                                               target->port));
  else
    connectable = g_network_address_new (target->host, target->port);

  deadline_source = g_timeout_source_new ((guint) CLAMP (remaining_ms, 0, G_MAXUINT));
  g_source_set_callback (deadline_source, on_connect_deadline_cb, &data, NULL);
  g_source_attach (deadline_source, context);
  if (cancellable != NULL)
    {
      cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (cancel_source, G_SOURCE_FUNC (on_parent_cancelled_cb), &data, NULL);
      g_source_attach (cancel_source, context);
    }

  g_socket_client_connect_async (client, connectable, child, connect_cb, &data);
  while (!data.done)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (deadline_source);
  if (cancel_source != NULL)
    g_source_destroy (cancel_source);
  /* Let the attempts that lost the race finish their clean-up. */
  g_cancellable_cancel (child);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);

  *timed_out = data.timed_out && data.connection == NULL;
  if (data.connection == NULL)
    {
      g_propagate_error (error, data.error);
      return NULL;
    }
  return data.connection;
}

/* Checking one target */

static void
add_string (JsonBuilder *builder,
            const char  *member,
            const char  *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value != NULL ? value : "");
}

static void
add_string_take (JsonBuilder *builder,
                 const char  *member,
                 char        *value)
{
  add_string (builder, member, value);
  g_free (value);
}

static void
add_pins (JsonBuilder *builder,
          const char  *member,
          GPtrArray   *pins)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < pins->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (pins, i));
  json_builder_end_array (builder);
}

static char *
builder_to_string (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static gboolean
pins_match (const Target *target,
            GPtrArray    *seen)
{
  for (guint i = 0; i < target->pins->len; i++)
    for (guint j = 0; j < seen->len; j++)
      if (g_strcmp0 (g_ptr_array_index (target->pins, i), g_ptr_array_index (seen, j)) == 0)
        return TRUE;
  return FALSE;
}

static MoatFinding *
check_chain (RunData                 *run,
             const Target            *target,
             const char              *subject,
             const char              *peer,
             const gnutls_datum_t    *der,
             guint                    n_der,
             gnutls_session_t         session)
{
  g_autoptr(GPtrArray) crts = g_ptr_array_new_with_free_func ((GDestroyNotify) gnutls_x509_crt_deinit);
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *evidence = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *issuer_name = NULL;
  g_autofree char *status_text = NULL;
  gnutls_datum_t status_datum = { NULL, 0 };
  gnutls_x509_trust_list_t trust = NULL;
  gnutls_x509_crt_t leaf, top;
  unsigned int status = 0;
  const unsigned int time_bits = GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED
                                 | GNUTLS_CERT_NOT_ACTIVATED;
  const unsigned int name_bits = GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER;
  const char *reason;
  gboolean pinned;
  int ret;

  for (guint i = 0; i < n_der; i++)
    {
      gnutls_x509_crt_t crt = NULL;

      if (gnutls_x509_crt_init (&crt) < 0)
        break;
      if (gnutls_x509_crt_import (crt, &der[i], GNUTLS_X509_FMT_DER) < 0)
        {
          gnutls_x509_crt_deinit (crt);
          break;
        }
      g_ptr_array_add (crts, crt);
    }
  if (crts->len == 0)
    return moat_finding_new_inconclusive (DETECTOR, subject,
                                          _("Could not check the connection: the server sent a certificate that cannot be read."));
  leaf = g_ptr_array_index (crts, 0);
  top = g_ptr_array_index (crts, crts->len - 1);

  ret = gnutls_certificate_verify_peers3 (session, target->host, &status);
  if (ret < 0)
    {
      /* Not a verdict on the chain (say, a handshake that broke off before
       * the certificate was complete): no threat on that. */
      summary = g_strdup_printf (_("Could not check %s: %s"), target->host, gnutls_strerror (ret));
      return moat_finding_new_inconclusive (DETECTOR, subject, summary);
    }
  if (gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &status_datum, 0) >= 0)
    status_text = datum_to_string (&status_datum);
  else
    status_text = g_strdup_printf ("0x%x", status);

  /* What the chain pins to: every presented certificate, plus the trust
   * anchor the top one was issued by, which servers need not send. */
  for (guint i = 0; i < crts->len; i++)
    {
      char *pin = moat_tls_crt_spki_pin (g_ptr_array_index (crts, i));

      if (pin != NULL)
        g_ptr_array_add (seen, pin);
    }
  gnutls_certificate_get_trust_list (run->cred, &trust);
  if (trust != NULL)
    {
      g_auto(gnutls_x509_crt_t) anchor = NULL;

      if (gnutls_x509_trust_list_get_issuer (trust, top, &anchor, GNUTLS_TL_GET_COPY) >= 0
          && anchor != NULL)
        {
          char *pin = moat_tls_crt_spki_pin (anchor);

          if (pin != NULL && !g_ptr_array_find_with_equal_func (seen, pin, g_str_equal, NULL))
            g_ptr_array_add (seen, pin);
          else
            g_free (pin);
        }
    }
  pinned = target->pins->len == 0 || pins_match (target, seen);

  issuer_name = moat_tls_crt_display_name (top, TRUE);
  if ((status & ~(time_bits | name_bits)) != 0)
    {
      reason = "untrusted-issuer";
      /* Translators: the first %s is a host name, the second the name of
       * the certificate authority that issued its certificate. */
      summary = g_strdup_printf (_("The certificate of %s was issued by “%s”, which this computer does not trust."),
                                 target->host, issuer_name);
    }
  else if (!pinned)
    {
      reason = "pin-mismatch";
      summary = g_strdup_printf (_("The certificate of %s was issued by “%s” and does not carry the key pinned for it."),
                                 target->host, issuer_name);
    }
  else if ((status & GNUTLS_CERT_UNEXPECTED_OWNER) != 0)
    {
      reason = "hostname-mismatch";
      summary = g_strdup_printf (_("%s answered with a certificate for another name, issued by “%s”."),
                                 target->host, issuer_name);
    }
  else if (status != 0)
    {
      reason = "validity-dates";
      summary = g_strdup_printf (_("The certificate of %s is outside its validity dates; the clock of this computer may be wrong."),
                                 target->host);
    }
  else
    {
      reason = "ok";
      summary = g_strdup_printf (_("The certificate of %s is trusted."), target->host);
    }

  json_builder_begin_object (builder);
  add_string (builder, "host", target->host);
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, target->port);
  add_string (builder, "address", peer);
  add_string (builder, "reason", reason);
  add_string_take (builder, "subject", moat_tls_crt_subject_dn (leaf));
  add_string_take (builder, "issuer", moat_tls_crt_issuer_dn (leaf));
  add_string_take (builder, "issuer_name", moat_tls_crt_display_name (leaf, TRUE));
  add_string_take (builder, "top_subject", moat_tls_crt_subject_dn (top));
  add_string_take (builder, "top_issuer", moat_tls_crt_issuer_dn (top));
  add_string_take (builder, "leaf_sha256", moat_tls_crt_sha256 (leaf));
  add_string_take (builder, "top_sha256", moat_tls_crt_sha256 (top));
  add_string_take (builder, "leaf_spki", moat_tls_crt_spki_pin (leaf));
  json_builder_set_member_name (builder, "chain_length");
  json_builder_add_int_value (builder, crts->len);
  add_string (builder, "verify_status", status_text);
  json_builder_set_member_name (builder, "verify_status_code");
  json_builder_add_int_value (builder, status);
  add_string (builder, "trust", run->options->ca_file != NULL ? run->options->ca_file : "system");
  if (target->pins->len > 0)
    {
      add_pins (builder, "expected_pins", target->pins);
      add_pins (builder, "seen_pins", seen);
    }
  json_builder_end_object (builder);
  evidence = builder_to_string (builder);

  if (g_str_equal (reason, "ok"))
    {
      MoatFinding *finding = moat_finding_new_clean (DETECTOR, subject, summary);

      finding->evidence = g_steal_pointer (&evidence);
      return finding;
    }
  if (g_str_equal (reason, "validity-dates"))
    {
      MoatFinding *finding = moat_finding_new_inconclusive (DETECTOR, subject, summary);

      finding->evidence = g_steal_pointer (&evidence);
      return finding;
    }
  return moat_finding_new_threat (DETECTOR, subject, THREAT_ID,
                                  g_str_equal (reason, "hostname-mismatch") ? MOAT_SEVERITY_MEDIUM
                                                                            : MOAT_SEVERITY_HIGH,
                                  summary, evidence);
}

static MoatFinding *
inconclusive (const char *subject,
              const char *summary)
{
  return moat_finding_new_inconclusive (DETECTOR, subject, summary);
}

static char *
dup_peer_address (GSocketConnection *connection)
{
  g_autoptr(GSocketAddress) address = g_socket_connection_get_remote_address (connection, NULL);

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("");
  return g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

static MoatFinding *
probe_target (RunData      *run,
              const Target *target)
{
  g_autofree char *subject = target_subject (target);
  g_autofree char *summary = NULL;
  g_autofree char *peer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_auto(gnutls_session_t) session = NULL;
  const gnutls_datum_t *der;
  unsigned int n_der = 0;
  gint64 deadline = g_get_monotonic_time () + (gint64) run->options->timeout_ms * 1000;
  gboolean timed_out = FALSE;
  Io io = { NULL, NULL, deadline, FALSE, FALSE };
  int ret;

  if (run->trust_empty)
    {
      summary = g_strdup_printf (_("Could not check %s: this computer has no trusted certificates to check it against."),
                                 target->host);
      return inconclusive (subject, summary);
    }

  connection = connect_sync (target, deadline, run->cancellable, &timed_out, &error);
  if (connection == NULL)
    {
      if (timed_out)
        summary = g_strdup_printf (_("Could not check %s: the connection timed out."), target->host);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        summary = g_strdup_printf (_("The check of %s was cancelled."), target->host);
      else
        summary = g_strdup_printf (_("Could not check %s: %s"), target->host, error->message);
      return inconclusive (subject, summary);
    }
  peer = dup_peer_address (connection);

  io.socket = g_socket_connection_get_socket (connection);
  io.cancellable = run->cancellable;
  ret = gnutls_init (&session, GNUTLS_CLIENT);
  if (ret >= 0)
    ret = gnutls_set_default_priority (session);
  if (ret >= 0)
    ret = gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, run->cred);
  if (ret >= 0 && !g_hostname_is_ip_address (target->host))
    ret = gnutls_server_name_set (session, GNUTLS_NAME_DNS, target->host, strlen (target->host));
  if (ret < 0)
    {
      summary = g_strdup_printf (_("Could not check %s: %s"), target->host, gnutls_strerror (ret));
      return inconclusive (subject, summary);
    }
  gnutls_transport_set_ptr (session, &io);
  gnutls_transport_set_push_function (session, io_push);
  gnutls_transport_set_pull_function (session, io_pull);
  gnutls_transport_set_pull_timeout_function (session, io_pull_timeout);
  gnutls_handshake_set_timeout (session, GNUTLS_INDEFINITE_TIMEOUT);

  do
    ret = gnutls_handshake (session);
  while (ret < 0 && gnutls_error_is_fatal (ret) == 0 && !io.timed_out && !io.cancelled);

  /* A failed handshake may still have shown the certificate: judge it. */
  der = gnutls_certificate_get_peers (session, &n_der);
  if (der == NULL || n_der == 0)
    {
      if (io.cancelled)
        summary = g_strdup_printf (_("The check of %s was cancelled."), target->host);
      else if (io.timed_out)
        summary = g_strdup_printf (_("Could not check %s: the TLS handshake timed out."),
                                   target->host);
      else if (ret >= 0)
        summary = g_strdup_printf (_("Could not check %s: the server sent no certificate."),
                                   target->host);
      else
        summary = g_strdup_printf (_("Could not check %s: the server did not answer with TLS (%s)."),
                                   target->host, gnutls_strerror (ret));
      return inconclusive (subject, summary);
    }
  if (ret < 0)
    g_debug ("Handshake with %s failed after its certificate: %s", subject, gnutls_strerror (ret));
  return check_chain (run, target, subject, peer, der, n_der, session);
}

/* A worker: checks targets until none is left. */
static gpointer
probe_worker (gpointer data)
{
  RunData *run = data;
  guint n = run->options->targets->len;
  gint index;

  while ((index = g_atomic_int_add (&run->next, 1)) < (gint) n)
    {
      gint64 start = g_get_monotonic_time ();
      MoatFinding *finding;

      finding = probe_target (run, g_ptr_array_index (run->options->targets, index));
      finding->duration_us = g_get_monotonic_time () - start;
      run->findings[index] = finding;
    }
  return NULL;
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  RunData *run = task_data;
  guint n = run->options->targets->len;
  g_autoptr(GPtrArray) findings = NULL;
  GPtrArray *workers;
  int ret;

  ret = gnutls_certificate_allocate_credentials (&run->cred);
  if (ret < 0)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               "Cannot set up TLS: %s", gnutls_strerror (ret));
      return;
    }
  if (run->options->ca_file != NULL)
    {
      ret = gnutls_certificate_set_x509_trust_file (run->cred, run->options->ca_file,
                                                    GNUTLS_X509_FMT_PEM);
      if (ret <= 0)
        {
          g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                   "Cannot load CA file “%s”: %s", run->options->ca_file,
                                   ret == 0 ? "no certificates in it" : gnutls_strerror (ret));
          return;
        }
    }
  else
    {
      ret = gnutls_certificate_set_x509_system_trust (run->cred);
      run->trust_empty = ret <= 0;
      if (run->trust_empty)
        g_warning ("The system trust store is empty or unreadable: %s",
                   ret < 0 ? gnutls_strerror (ret) : "no certificates");
    }

  /* Up to MAX_PARALLEL workers; this thread is one of them. The threads
   * are joined (which orders their writes to run->findings before ours). */
  run->findings = g_new0 (MoatFinding *, MAX (n, 1));
  workers = g_ptr_array_new ();
  for (guint i = 1; i < MIN (n, MAX_PARALLEL); i++)
    {
      GThread *thread = g_thread_try_new ("moat-tls-probe", probe_worker, run, NULL);

      if (thread == NULL)
        break;
      g_ptr_array_add (workers, thread);
    }
  probe_worker (run);
  for (guint i = 0; i < workers->len; i++)
    g_thread_join (g_ptr_array_index (workers, i));
  g_ptr_array_unref (workers);

  if (g_task_return_error_if_cancelled (task))
    return;
  findings = g_ptr_array_new_full (n, (GDestroyNotify) moat_finding_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (findings, g_steal_pointer (&run->findings[i]));
  g_task_return_pointer (task, g_steal_pointer (&findings), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * moat_tls_probe_run_async:
 * @options: what to check; copied
 * @cancellable: (nullable): stops every check
 *
 * Checks every target of @options at once (up to eight at a time), each
 * within the options' timeout, on worker threads.
 */
void
moat_tls_probe_run_async (const MoatTlsProbeOptions *options,
                          GCancellable              *cancellable,
                          GAsyncReadyCallback        callback,
                          gpointer                   user_data)
{
  g_autoptr(GTask) task = NULL;
  RunData *run;

  g_return_if_fail (options != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_tls_probe_run_async);
  run = g_new0 (RunData, 1);
  run->options = moat_tls_probe_options_copy (options);
  run->cancellable = cancellable;
  g_task_set_task_data (task, run, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
}

/**
 * moat_tls_probe_run_finish:
 * @error: %MOAT_ERROR_INVALID_ARGUMENT when the CA file cannot be loaded,
 *   %G_IO_ERROR_CANCELLED when cancelled
 *
 * Returns: (transfer container) (element-type MoatFinding): one finding
 *   per target, in the order they were added
 */
GPtrArray *
moat_tls_probe_run_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == moat_tls_probe_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
