/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-proxy.h"

G_BEGIN_DECLS

/*
 * The page the proxy answers a blocked plain-HTTP request with, the small page
 * it answers an "Allow" form with, and the tokens that tie such a form to the
 * block page that offered it.
 *
 * Pure and thread-safe: after moat_block_page_init() nothing here touches the
 * disk, so the proxy thread may call every function. The pages are complete
 * HTML5 documents with inline CSS only, a Content-Security-Policy that lets
 * them load nothing, and every interpolated string escaped.
 */

/* The Content-Type of every page here. Send them with `Cache-Control: no-store`. */
#define MOAT_BLOCK_PAGE_CONTENT_TYPE "text/html; charset=utf-8"

/* Where the block page's forms post to, below the proxy's own origin. */
#define MOAT_BLOCK_PAGE_ALLOW_PATH "/moat/allow"

/* Largest application/x-www-form-urlencoded body moat_block_page_parse_allow_form()
 * accepts, and the longest return URL in it. */
#define MOAT_BLOCK_PAGE_MAX_FORM_SIZE 16384
#define MOAT_BLOCK_PAGE_MAX_URL_LENGTH 8192

/* Shortest secret the token functions accept. */
#define MOAT_BLOCK_PAGE_MIN_SECRET_SIZE 16

/* Translates and caches every string of the pages in the current locale.
 * Call it once on the main thread before the proxy thread renders a page
 * (gettext reads its catalogue from disk the first time). Later calls do
 * nothing. */
void      moat_block_page_init              (void);

/* The language tag the pages are written in ("en", "de", ...). */
const char *moat_block_page_get_language    (void);

/* @proxy_origin: "http://127.0.0.1:PORT", where the forms post to.
 * @allow_token: (nullable): from moat_block_page_make_token() for
 *   @block->host; NULL leaves the "Allow" forms out (they are also left out
 *   for blocks that no list decided, which allowing could not change). */
GBytes   *moat_block_page_render            (const MoatProxyBlock *block,
                                             const char           *proxy_origin,
                                             const char           *allow_token);

/* The answer to an accepted form: says @host is allowed and links back to
 * @return_url when it is an http:// URL (anything else gets no link). */
GBytes   *moat_block_page_render_allowed    (const char           *host,
                                             const char           *return_url);

/* "EXPIRY.HEXMAC", HMAC-SHA256 with @secret over "HOST|EXPIRY". */
char     *moat_block_page_make_token        (const guint8         *secret,
                                             gsize                 secret_len,
                                             const char           *host,
                                             gint64                expiry_unix);
/* Whether @token was made with @secret for @host and has not expired at
 * @now_unix. Compares in constant time; any malformed token is FALSE. */
gboolean  moat_block_page_check_token       (const guint8         *secret,
                                             gsize                 secret_len,
                                             const char           *host,
                                             const char           *token,
                                             gint64                now_unix);

/* Parses the body the block page's forms send. Strict: exactly the fields
 * host, token, mode and return, each once; mode "once" or "always"; host
 * canonical as moat_host_normalize() writes it; return an http:// URL to that
 * host. Anything else is a MOAT_ERROR_INVALID_ARGUMENT. The token is only
 * checked for its shape: verify it with moat_block_page_check_token(). */
gboolean  moat_block_page_parse_allow_form  (const char           *body,
                                             gsize                 len,
                                             char                **host,
                                             char                **mode,
                                             char                **return_url,
                                             char                **token,
                                             GError              **error);

G_END_DECLS
