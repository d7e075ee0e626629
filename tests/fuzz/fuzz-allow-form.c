/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The block page's "Allow" form body arrives from any client of the proxy.
 * Invariants checked: refusal always comes with a MOAT_ERROR_INVALID_ARGUMENT
 * and no output; an accepted form has a canonical host, a known mode, an
 * http:// return URL of printable ASCII for that host and a token of the
 * right shape, which checks FALSE against a secret nobody used; and the
 * allowed page rendered from it is self-contained.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-block-page.h"
#include "moat-error.h"
#include "moat-host.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const guint8 secret[16] = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *return_url = NULL;
  g_autofree char *token = NULL;
  g_autofree char *canonical = NULL;
  g_autoptr(GBytes) page = NULL;
  g_autofree char *html = NULL;

  if (!moat_block_page_parse_allow_form ((const char *) data, size, &host, &mode, &return_url,
                                         &token, &error))
    {
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_null (host);
      g_assert_null (mode);
      g_assert_null (return_url);
      g_assert_null (token);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (size, <=, MOAT_BLOCK_PAGE_MAX_FORM_SIZE);

  canonical = moat_host_normalize (host, -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (canonical, ==, host);
  g_assert_true (g_str_equal (mode, "once") || g_str_equal (mode, "always"));
  g_assert_true (g_ascii_strncasecmp (return_url, "http://", 7) == 0);
  g_assert_cmpuint (strlen (return_url), <=, MOAT_BLOCK_PAGE_MAX_URL_LENGTH);
  for (const char *p = return_url; *p != '\0'; p++)
    g_assert_true (*p > 0x20 && *p < 0x7f);
  g_assert_nonnull (strchr (token, '.'));
  g_assert_false (moat_block_page_check_token (secret, sizeof secret, host, token, 0));

  page = moat_block_page_render_allowed (host, return_url);
  html = g_strndup (g_bytes_get_data (page, NULL), g_bytes_get_size (page));
  g_assert_null (strstr (html, "<script"));
  g_assert_cmpuint (strlen (html), ==, g_bytes_get_size (page));
  return 0;
}
