/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Hosts arrive from every client of the proxy (request targets, Host headers,
 * CONNECT authorities) and from every filter list. Invariants checked:
 * refusal always comes with a GError; an accepted host is lower-case ASCII
 * from the canonical alphabet, at most 253 bytes, and normalising it again
 * gives it back with the same kind; the other helpers accept whatever
 * normalisation returns.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-error.h"
#include "moat-host.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_canonical (const char   *host,
                 MoatHostKind  kind)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *again = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *unmapped = NULL;
  MoatHostKind kind_again = 99;
  gsize len = strlen (host);

  g_assert_cmpuint (len, >, 0);
  g_assert_cmpuint (len, <=, MOAT_HOST_MAX_LENGTH);
  for (gsize i = 0; i < len; i++)
    {
      char c = host[i];

      if (kind == MOAT_HOST_KIND_IPV6)
        g_assert_true (g_ascii_isdigit (c) || (c >= 'a' && c <= 'f') || c == ':' || c == '.');
      else
        g_assert_true (g_ascii_isdigit (c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.');
    }
  if (kind != MOAT_HOST_KIND_IPV6)
    {
      g_assert_cmpint (host[0], !=, '.');
      g_assert_cmpint (host[len - 1], !=, '.');
      g_assert_null (strstr (host, ".."));
    }

  again = moat_host_normalize (host, -1, &kind_again, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, host);
  g_assert_cmpint (kind_again, ==, kind);

  domain = moat_host_registrable_domain (host);
  if (kind != MOAT_HOST_KIND_NAME)
    g_assert_null (domain);
  else if (domain != NULL)
    g_assert_true (g_str_has_suffix (host, domain));
  (void) moat_host_is_local_address (host);
  unmapped = moat_host_unmap_ipv4 (host);
  if (unmapped != NULL)
    g_assert_cmpint (kind, ==, MOAT_HOST_KIND_IPV6);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *raw = NULL;
  MoatHostKind kind = 99;
  guint16 port = 0;

  if (size > 4 * MOAT_HOST_MAX_INPUT_LENGTH)
    return 0;

  host = moat_host_normalize ((const char *) data, (gssize) size, &kind, &error);
  if (host == NULL)
    g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  else
    check_canonical (host, kind);
  g_clear_error (&error);
  g_clear_pointer (&host, g_free);

  /* The same bytes as an authority (up to the first NUL). */
  copy = g_strndup ((const char *) data, size);
  if (moat_host_split_authority (copy, &raw, &port, &error))
    {
      g_assert_nonnull (raw);
      g_assert_cmpuint (strlen (raw), >, 0);
      host = moat_host_normalize (raw, -1, &kind, &error);
      if (host == NULL)
        g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      else
        check_canonical (host, kind);
    }
  else
    {
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_null (raw);
    }
  return 0;
}
