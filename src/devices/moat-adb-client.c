/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-adb-client.h"

#include "moat-adb-protocol.h"
#include "moat-error.h"

#include <glib/gi18n.h>
#include <string.h>

#define TRACK_RETRY_MIN_MS 500
#define TRACK_RETRY_MAX_MS 10000

struct _MoatAdbClient
{
  GObject  parent_instance;

  guint16  port;
  char    *adb_path;
  gboolean server_started;    /* tried to start the server once already */
  GPtrArray *server_waiters;  /* GTask: refused while the server was starting */

  /* host:track-devices-l */
  GCancellable      *track_cancellable;
  GSocketConnection *track_connection;
  char               track_head[4];
  char              *track_buffer;
  guint              track_length;
  guint              track_retry_ms;
  guint              track_retry_id;
  gboolean           track_had_devices;
  char              *track_signature;   /* serial and state of each, as last emitted */
  guint              track_poll_id;
  gboolean           track_polling;
};

/* adb 29 does not tell trackers when a Wi-Fi phone it keeps trying to reach
 * goes offline: the list is also read this often while tracking. */
#define TRACK_POLL_MS 3000

G_DEFINE_FINAL_TYPE (MoatAdbClient, moat_adb_client, G_TYPE_OBJECT)

enum {
  SIGNAL_DEVICES_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef enum {
  OP_QUERY,
  OP_SHELL,
  OP_DEVICE,
} OpKind;

typedef enum {
  STEP_TRANSPORT,     /* host:transport:SERIAL sent */
  STEP_SERVICE,       /* the query or shell,v2 service sent */
  STEP_LENGTH,        /* a query's answer: its length */
  STEP_DATA,          /* a query's answer: its data */
  STEP_STREAM,        /* shell v2 packets */
} Step;

typedef struct {
  OpKind              kind;
  Step                step;
  char               *serial;
  char               *service;
  const char         *what;            /* for people: the command, or the service */
  guint               timeout_ms;
  gboolean            retried;
  GSocketConnection  *connection;
  GCancellable       *cancellable;     /* the op's own: the timeout cancels it */
  GCancellable       *caller;          /* the caller's, passed on to ours */
  gulong              cancel_id;
  gboolean            failing;         /* reading a FAIL's reason */
  guint               timeout_id;
  gboolean            timed_out;
  char                head[4];
  guint               length;
  guint8             *buffer;
  MoatShellV2Decoder *decoder;
  GByteArray         *answer;          /* OP_DEVICE: everything until EOF */
} Op;

static void op_connect (GTask *task);
static void op_send (GTask *task, const char *service, Step next);

void
moat_adb_shell_result_free (MoatAdbShellResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->out, g_bytes_unref);
  g_clear_pointer (&result->err, g_bytes_unref);
  g_free (result);
}

static void
op_free (Op *op)
{
  g_clear_handle_id (&op->timeout_id, g_source_remove);
  if (op->caller != NULL)
    g_cancellable_disconnect (op->caller, op->cancel_id);
  g_clear_object (&op->caller);
  g_free (op->serial);
  g_free (op->service);
  if (op->connection != NULL)
    g_io_stream_close (G_IO_STREAM (op->connection), NULL, NULL);
  g_clear_object (&op->connection);
  g_clear_object (&op->cancellable);
  g_free (op->buffer);
  g_clear_pointer (&op->decoder, moat_shell_v2_decoder_free);
  g_clear_pointer (&op->answer, g_byte_array_unref);
  g_free (op);
}

static gboolean
op_timeout_cb (gpointer user_data)
{
  Op *op = user_data;

  op->timeout_id = 0;
  op->timed_out = TRUE;
  g_cancellable_cancel (op->cancellable);
  return G_SOURCE_REMOVE;
}

/* Errors for people: what went wrong between Moat and the phone. */
static void
op_fail (GTask *task, GError *error)
{
  Op *op = g_task_get_task_data (task);

  if (op->timed_out)
    {
      g_clear_error (&error);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("The phone did not answer “%s” within %u seconds"),
                               op->what, (op->timeout_ms + 999) / 1000);
      return;
    }
  g_task_return_error (task, error);
}

/* A device service's whole answer (reverse:, tcpip:) is short. */
#define DEVICE_ANSWER_MAX (64 * 1024)

static GInputStream *
op_input (Op *op)
{
  return g_io_stream_get_input_stream (G_IO_STREAM (op->connection));
}

static void read_stream (GTask *task);

static void
stream_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);

  if (n < 0)
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  if (op->kind == OP_DEVICE)
    {
      if (n == 0)
        {
          g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&op->answer)),
                                 (GDestroyNotify) g_bytes_unref);
          return;
        }
      if (op->answer->len + (gsize) n > DEVICE_ANSWER_MAX)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("The phone's answer to “%s” is too long"), op->what);
          return;
        }
      g_byte_array_append (op->answer, op->buffer, (guint) n);
      read_stream (g_steal_pointer (&task));
      return;
    }
  if (n == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("The phone went away before “%s” finished"), op->what);
      return;
    }
  if (!moat_shell_v2_decoder_feed (op->decoder, op->buffer, (gsize) n, &error))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The phone's answer to “%s” is not valid: %s"), op->what,
                               error->message);
      return;
    }
  if (moat_shell_v2_decoder_is_done (op->decoder))
    {
      MoatAdbShellResult *r = g_new0 (MoatAdbShellResult, 1);

      r->exit_code = moat_shell_v2_decoder_get_exit_code (op->decoder);
      r->out = moat_shell_v2_decoder_steal_stdout (op->decoder);
      r->err = moat_shell_v2_decoder_steal_stderr (op->decoder);
      g_task_return_pointer (task, r, (GDestroyNotify) moat_adb_shell_result_free);
      return;
    }
  read_stream (g_steal_pointer (&task));
}

static void
read_stream (GTask *task)
{
  Op *op = g_task_get_task_data (task);

  g_input_stream_read_async (op_input (op), op->buffer, 64 * 1024, G_PRIORITY_DEFAULT,
                             op->cancellable, stream_read_cb, task);
}

static void
data_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gsize got = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &got, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  if (got < op->length)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "the adb server's answer to “%s” was cut short", op->service);
      return;
    }
  if (op->step == STEP_LENGTH)
    {
      /* A FAIL's message, or a query's length. */
      if (!moat_adb_parse_length (op->head, &op->length))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   "the adb server's answer to “%s” has no length",
                                   op->service);
          return;
        }
      op->step = STEP_DATA;
      g_free (op->buffer);
      op->buffer = g_malloc (op->length + 1);
      g_input_stream_read_all_async (op_input (op), op->buffer, op->length, G_PRIORITY_DEFAULT,
                                     op->cancellable, data_read_cb, g_steal_pointer (&task));
      return;
    }
  op->buffer[op->length] = '\0';
  if (!op->failing)
    {
      g_task_return_pointer (task, g_bytes_new (op->buffer, op->length),
                             (GDestroyNotify) g_bytes_unref);
      return;
    }
  /* A FAIL: its message says why. */
  g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED, "%s",
                           g_utf8_validate ((const char *) op->buffer, -1, NULL)
                           ? (const char *) op->buffer : "adb refused the request");
}

static void
status_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gsize got = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &got, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  if (got == 4 && memcmp (op->head, "FAIL", 4) == 0)
    {
      /* Read the reason: a length, then the message. */
      op->step = STEP_LENGTH;
      op->length = 4;
      op->failing = TRUE;
      g_input_stream_read_all_async (op_input (op), op->head, 4, G_PRIORITY_DEFAULT,
                                     op->cancellable, data_read_cb, g_steal_pointer (&task));
      return;
    }
  if (got != 4 || memcmp (op->head, "OKAY", 4) != 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "what answers on port %u does not speak adb's protocol",
                               moat_adb_client_get_port (g_task_get_source_object (task)));
      return;
    }
  switch (op->step)
    {
    case STEP_TRANSPORT:
      op_send (g_steal_pointer (&task), op->service, STEP_SERVICE);
      return;
    case STEP_SERVICE:
      if (op->kind == OP_SHELL || op->kind == OP_DEVICE)
        {
          op->step = STEP_STREAM;
          op->buffer = g_malloc (64 * 1024);
          if (op->kind == OP_SHELL)
            op->decoder = moat_shell_v2_decoder_new (MOAT_ADB_DEFAULT_MAX_OUTPUT);
          else
            op->answer = g_byte_array_new ();
          read_stream (g_steal_pointer (&task));
          return;
        }
      op->step = STEP_LENGTH;
      op->length = 4;
      g_input_stream_read_all_async (op_input (op), op->head, 4, G_PRIORITY_DEFAULT,
                                     op->cancellable, data_read_cb, g_steal_pointer (&task));
      return;
    case STEP_LENGTH:
    case STEP_DATA:
    case STEP_STREAM:
    default:
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "confused about “%s”",
                               op->service);
      return;
    }
}

static void
request_written_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  g_input_stream_read_all_async (op_input (op), op->head, 4, G_PRIORITY_DEFAULT, op->cancellable,
                                 status_read_cb, g_steal_pointer (&task));
}

static void
op_send (GTask *task, const char *service, Step next)
{
  Op *op = g_task_get_task_data (task);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (op->connection));
  g_autofree char *request = moat_adb_format_request (service);

  if (request == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "the request is too long");
      g_object_unref (task);
      return;
    }
  op->step = next;
  g_output_stream_write_all_async (out, request, strlen (request), G_PRIORITY_DEFAULT,
                                   op->cancellable, request_written_cb, task);
}

static void
server_started_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatAdbClient *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->server_waiters);

  if (!g_subprocess_wait_check_finish (G_SUBPROCESS (object), result, &error))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                               _("The adb server could not be started: %s"), error->message);
      for (guint i = 0; waiters != NULL && i < waiters->len; i++)
        g_task_return_new_error (g_ptr_array_index (waiters, i), MOAT_ERROR,
                                 MOAT_ERROR_NOT_SUPPORTED,
                                 _("The adb server could not be started: %s"), error->message);
      return;
    }
  op_connect (g_steal_pointer (&task));
  /* Requests refused while it was starting go now too. */
  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    op_connect (g_object_ref (g_ptr_array_index (waiters, i)));
}

static void
connected_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatAdbClient *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  op->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (op->connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) && !op->retried &&
          self->server_waiters != NULL)
        {
          /* Another request is starting the server: try again when it is up. */
          op->retried = TRUE;
          g_ptr_array_add (self->server_waiters, g_steal_pointer (&task));
          return;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) && !op->retried &&
          !self->server_started)
        {
          g_autofree char *port = g_strdup_printf ("%u", self->port);
          g_autoptr(GSubprocess) adb = NULL;
          g_autoptr(GError) spawn_error = NULL;

          /* Nothing listens: start the real server, once, and try again. */
          op->retried = TRUE;
          self->server_started = TRUE;
          self->server_waiters = g_ptr_array_new_with_free_func (g_object_unref);
          adb = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                  G_SUBPROCESS_FLAGS_STDERR_SILENCE, &spawn_error,
                                  self->adb_path, "-P", port, "start-server", NULL);
          if (adb == NULL)
            {
              g_clear_pointer (&self->server_waiters, g_ptr_array_unref);
              g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                                       _("adb is not installed (%s)"), spawn_error->message);
              return;
            }
          g_debug ("Starting the adb server on port %u", self->port);
          g_subprocess_wait_check_async (adb, op->cancellable, server_started_cb,
                                         g_steal_pointer (&task));
          return;
        }
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  if (op->serial != NULL)
    {
      g_autofree char *transport = g_strconcat ("host:transport:", op->serial, NULL);

      op_send (g_steal_pointer (&task), transport, STEP_TRANSPORT);
    }
  else
    op_send (g_steal_pointer (&task), op->service, STEP_SERVICE);
}

static void
op_connect (GTask *task)
{
  MoatAdbClient *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  g_autoptr(GSocketClient) client = g_socket_client_new ();

  /* The adb server is on this computer; never through a proxy. */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_connect_to_host_async (client, "127.0.0.1", self->port, op->cancellable,
                                         connected_cb, task);
}

static void
caller_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
op_start (MoatAdbClient       *self,
          OpKind               kind,
          const char          *serial,
          const char          *service,
          guint                timeout_ms,
          GCancellable        *cancellable,
          gpointer             source_tag,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  op->kind = kind;
  op->serial = g_strdup (serial);
  op->service = g_strdup (service);
  op->what = kind == OP_SHELL && strchr (op->service, ':') != NULL
             ? strchr (op->service, ':') + 1 : op->service;
  op->timeout_ms = timeout_ms > 0 ? timeout_ms : MOAT_ADB_DEFAULT_TIMEOUT_MS;
  op->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      op->caller = g_object_ref (cancellable);
      op->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                             g_object_ref (op->cancellable), g_object_unref);
    }
  op->timeout_id = g_timeout_add (op->timeout_ms, op_timeout_cb, op);
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  op_connect (task);
}

/* ---- tracking ---- */

static void track_connect (MoatAdbClient *self);
static void track_read_head (MoatAdbClient *self);
static gboolean track_retry_cb (gpointer user_data);

static char *
devices_signature (GPtrArray *devices)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      const MoatAdbDevice *d = g_ptr_array_index (devices, i);

      g_string_append_printf (s, "%s\t%s\n", d->serial, d->state);
    }
  return g_string_free (s, FALSE);
}

static void
track_polled_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatAdbClient) self = user_data;
  g_autoptr(GBytes) list = moat_adb_client_query_finish (self, result, NULL);
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *signature = NULL;

  self->track_polling = FALSE;
  if (list == NULL || self->track_cancellable == NULL ||
      g_cancellable_is_cancelled (self->track_cancellable) || self->track_connection == NULL)
    return;
  devices = moat_adb_parse_devices (g_bytes_get_data (list, NULL), g_bytes_get_size (list),
                                    NULL);
  if (devices == NULL)
    return;
  signature = devices_signature (devices);
  if (g_strcmp0 (signature, self->track_signature) == 0)
    return;
  g_debug ("adb on port %u changed its list without telling", self->port);
  g_free (self->track_signature);
  self->track_signature = g_steal_pointer (&signature);
  self->track_had_devices = devices->len > 0;
  g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0, devices);
}

static gboolean
track_poll_cb (gpointer user_data)
{
  MoatAdbClient *self = user_data;

  /* Only while the tracking connection is up: otherwise a poll would start
   * the server again. */
  if (!self->track_polling && self->track_connection != NULL)
    {
      self->track_polling = TRUE;
      moat_adb_client_query_async (self, "host:devices-l", self->track_cancellable,
                                   track_polled_cb, g_object_ref (self));
    }
  return G_SOURCE_CONTINUE;
}

static void
track_lost (MoatAdbClient *self, const char *why)
{
  g_autoptr(GPtrArray) none = NULL;

  if (self->track_cancellable == NULL || g_cancellable_is_cancelled (self->track_cancellable))
    return;
  g_debug ("Tracking adb devices on port %u: %s; trying again in %u ms", self->port, why,
           self->track_retry_ms);
  if (self->track_connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->track_connection), NULL, NULL);
  g_clear_object (&self->track_connection);
  if (self->track_had_devices)
    {
      /* The server is gone: so are its devices, as far as anyone can tell. */
      none = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_adb_device_free);
      self->track_had_devices = FALSE;
      g_clear_pointer (&self->track_signature, g_free);
      g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0, none);
    }
  g_clear_handle_id (&self->track_retry_id, g_source_remove);
  self->track_retry_id = g_timeout_add (self->track_retry_ms, track_retry_cb, self);
  self->track_retry_ms = MIN (self->track_retry_ms * 2, TRACK_RETRY_MAX_MS);
}

static void
track_data_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatAdbClient) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  gsize got = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &got, &error) ||
      got < self->track_length)
    {
      track_lost (self, error != NULL ? error->message : "the server hung up");
      return;
    }
  devices = moat_adb_parse_devices (self->track_buffer, self->track_length, &error);
  if (devices == NULL)
    {
      track_lost (self, error->message);
      return;
    }
  self->track_retry_ms = TRACK_RETRY_MIN_MS;
  self->track_had_devices = devices->len > 0;
  g_free (self->track_signature);
  self->track_signature = devices_signature (devices);
  g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0, devices);
  track_read_head (self);
}

static void
track_head_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatAdbClient) self = user_data;
  g_autoptr(GError) error = NULL;
  gsize got = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &got, &error) ||
      got < 4)
    {
      track_lost (self, error != NULL ? error->message : "the server hung up");
      return;
    }
  /* The first answer is the request's OKAY; then length-prefixed lists. */
  if (memcmp (self->track_head, "OKAY", 4) == 0)
    {
      track_read_head (self);
      return;
    }
  if (!moat_adb_parse_length (self->track_head, &self->track_length))
    {
      track_lost (self, "not adb's protocol");
      return;
    }
  g_free (self->track_buffer);
  self->track_buffer = g_malloc (self->track_length + 1);
  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (self->track_connection)),
                                 self->track_buffer, self->track_length, G_PRIORITY_DEFAULT,
                                 self->track_cancellable, track_data_cb, g_object_ref (self));
}

static void
track_read_head (MoatAdbClient *self)
{
  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (self->track_connection)),
                                 self->track_head, 4, G_PRIORITY_DEFAULT, self->track_cancellable,
                                 track_head_cb, g_object_ref (self));
}

static void
track_written_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatAdbClient) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      track_lost (self, error->message);
      return;
    }
  track_read_head (self);
}

static void
track_connected_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatAdbClient) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *request = moat_adb_format_request ("host:track-devices-l");

  self->track_connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result,
                                                           &error);
  if (self->track_connection == NULL)
    {
      track_lost (self, error->message);
      return;
    }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (self->track_connection)),
                                   request, strlen (request), G_PRIORITY_DEFAULT,
                                   self->track_cancellable, track_written_cb,
                                   g_object_ref (self));
}

static void
track_version_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatAdbClient) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) version = moat_adb_client_query_finish (self, result, &error);
  g_autoptr(GSocketClient) client = NULL;

  if (version == NULL)
    {
      track_lost (self, error->message);
      return;
    }
  client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_connect_to_host_async (client, "127.0.0.1", self->port,
                                         self->track_cancellable, track_connected_cb,
                                         g_object_ref (self));
}

/* A version query first: it starts the server when none runs. */
static void
track_connect (MoatAdbClient *self)
{
  moat_adb_client_query_async (self, "host:version", self->track_cancellable, track_version_cb,
                               g_object_ref (self));
}

static gboolean
track_retry_cb (gpointer user_data)
{
  MoatAdbClient *self = user_data;

  self->track_retry_id = 0;
  track_connect (self);
  return G_SOURCE_REMOVE;
}

/**
 * moat_adb_client_start_tracking:
 *
 * Follows the server's device list (`host:track-devices-l`) and emits
 * ::devices-changed on every change, live as phones are plugged in and out.
 * If the server goes away, tracking reconnects with a growing delay.
 */
void
moat_adb_client_start_tracking (MoatAdbClient *self)
{
  g_return_if_fail (MOAT_IS_ADB_CLIENT (self));

  if (self->track_cancellable != NULL)
    return;
  self->track_cancellable = g_cancellable_new ();
  self->track_retry_ms = TRACK_RETRY_MIN_MS;
  self->track_poll_id = g_timeout_add (TRACK_POLL_MS, track_poll_cb, self);
  track_connect (self);
}

void
moat_adb_client_stop_tracking (MoatAdbClient *self)
{
  g_return_if_fail (MOAT_IS_ADB_CLIENT (self));

  if (self->track_cancellable == NULL)
    return;
  g_cancellable_cancel (self->track_cancellable);
  g_clear_object (&self->track_cancellable);
  g_clear_handle_id (&self->track_retry_id, g_source_remove);
  g_clear_handle_id (&self->track_poll_id, g_source_remove);
  g_clear_pointer (&self->track_signature, g_free);
  if (self->track_connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->track_connection), NULL, NULL);
  g_clear_object (&self->track_connection);
}

static void
moat_adb_client_dispose (GObject *object)
{
  moat_adb_client_stop_tracking (MOAT_ADB_CLIENT (object));
  G_OBJECT_CLASS (moat_adb_client_parent_class)->dispose (object);
}

static void
moat_adb_client_finalize (GObject *object)
{
  MoatAdbClient *self = MOAT_ADB_CLIENT (object);

  g_free (self->adb_path);
  g_free (self->track_buffer);
  g_clear_pointer (&self->server_waiters, g_ptr_array_unref);
  G_OBJECT_CLASS (moat_adb_client_parent_class)->finalize (object);
}

static void
moat_adb_client_class_init (MoatAdbClientClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = moat_adb_client_dispose;
  G_OBJECT_CLASS (klass)->finalize = moat_adb_client_finalize;

  signals[SIGNAL_DEVICES_CHANGED] =
    g_signal_new ("devices-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
}

static void
moat_adb_client_init (MoatAdbClient *self)
{
}

/**
 * moat_adb_client_new:
 * @port: the adb server's port; 0 for $ANDROID_ADB_SERVER_PORT or 5037
 * @adb_path: (nullable): the adb binary that starts a server; "adb" from
 *   PATH by default
 */
MoatAdbClient *
moat_adb_client_new (guint16     port,
                     const char *adb_path)
{
  MoatAdbClient *self = g_object_new (MOAT_TYPE_ADB_CLIENT, NULL);
  const char *env = g_getenv ("ANDROID_ADB_SERVER_PORT");
  guint64 value;

  self->port = port;
  if (self->port == 0 && env != NULL &&
      g_ascii_string_to_unsigned (env, 10, 1, 65535, &value, NULL))
    self->port = (guint16) value;
  if (self->port == 0)
    self->port = MOAT_ADB_DEFAULT_PORT;
  self->adb_path = g_strdup (adb_path != NULL ? adb_path : "adb");
  return self;
}

guint16
moat_adb_client_get_port (MoatAdbClient *self)
{
  g_return_val_if_fail (MOAT_IS_ADB_CLIENT (self), 0);
  return self->port;
}

/**
 * moat_adb_client_query_async:
 * @service: a host service that answers with data ("host:version",
 *   "host:devices-l")
 */
void
moat_adb_client_query_async (MoatAdbClient       *self,
                             const char          *service,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (MOAT_IS_ADB_CLIENT (self));
  g_return_if_fail (service != NULL);

  op_start (self, OP_QUERY, NULL, service, 0, cancellable, moat_adb_client_query_async,
            callback, user_data);
}

/**
 * moat_adb_client_query_finish:
 *
 * Returns: (transfer full): the answer's data
 */
GBytes *
moat_adb_client_query_finish (MoatAdbClient  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * moat_adb_client_shell_async:
 * @serial: the device
 * @command: the shell command line (as `adb shell` takes it)
 * @timeout_ms: 0 for MOAT_ADB_DEFAULT_TIMEOUT_MS
 *
 * Runs @command on the device over shell protocol v2, so that its exit code
 * comes back; at most MOAT_ADB_DEFAULT_MAX_OUTPUT bytes of output.
 */
void
moat_adb_client_shell_async (MoatAdbClient       *self,
                             const char          *serial,
                             const char          *command,
                             guint                timeout_ms,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autofree char *service = NULL;

  g_return_if_fail (MOAT_IS_ADB_CLIENT (self));
  g_return_if_fail (serial != NULL && command != NULL);

  service = g_strconcat ("shell,v2,raw:", command, NULL);
  op_start (self, OP_SHELL, serial, service, timeout_ms, cancellable,
            moat_adb_client_shell_async, callback, user_data);
}

/**
 * moat_adb_client_shell_finish:
 *
 * Returns: (transfer full): the exit code and output, or %NULL: the device is
 *   unknown or not ready (MOAT_ERROR_FAILED with adb's reason), did not
 *   answer in time (G_IO_ERROR_TIMED_OUT), went away, or sent what is not
 *   shell protocol v2 (G_IO_ERROR_INVALID_DATA)
 */
MoatAdbShellResult *
moat_adb_client_shell_finish (MoatAdbClient  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * moat_adb_client_device_service_async:
 * @serial: the device
 * @service: a device service such as "reverse:forward:tcp:8118;tcp:8118"
 *   or "tcpip:5555"
 * @timeout_ms: 0 for MOAT_ADB_DEFAULT_TIMEOUT_MS
 *
 * Opens @service on the device and reads its whole answer, until the
 * device closes the stream.
 */
void
moat_adb_client_device_service_async (MoatAdbClient       *self,
                                      const char          *serial,
                                      const char          *service,
                                      guint                timeout_ms,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (MOAT_IS_ADB_CLIENT (self));
  g_return_if_fail (serial != NULL && service != NULL);

  op_start (self, OP_DEVICE, serial, service, timeout_ms, cancellable,
            moat_adb_client_device_service_async, callback, user_data);
}

/**
 * moat_adb_client_device_service_finish:
 *
 * Returns: (transfer full): the device's answer as it sent it (for
 *   `reverse:` "OKAY", or "FAIL" and a length-prefixed reason)
 */
GBytes *
moat_adb_client_device_service_finish (MoatAdbClient  *self,
                                       GAsyncResult   *result,
                                       GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
