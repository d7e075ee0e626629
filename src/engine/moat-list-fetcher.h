/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * MoatListFetcher: downloads a filter-list subscription into a cache file.
 *
 * Conditional: the ETag and Last-Modified of the last download are kept next
 * to the cache file in "<cache_path>" MOAT_LIST_FETCHER_VALIDATORS_SUFFIX (a
 * small keyfile) and sent as If-None-Match / If-Modified-Since, so an
 * unchanged list costs one 304. A new list replaces the cache file
 * atomically (temporary file and rename, in a worker thread). Any failure
 * (network, HTTP status other than 200/304, a body over the size cap, a body
 * with NUL bytes, an empty body, a disk error) is a GError and the last good
 * copy stays as it was.
 *
 * One SoupSession per fetcher, used on the thread-default main context of
 * the caller; fetches may run concurrently (for different cache paths).
 * Connections go direct unless moat_list_fetcher_set_proxy_resolver() says
 * otherwise: the desktop's proxy may be Moat itself.
 */

#define MOAT_LIST_FETCHER_VALIDATORS_SUFFIX ".validators"
#define MOAT_LIST_FETCHER_DEFAULT_MAX_SIZE (50 * 1024 * 1024)
#define MOAT_LIST_FETCHER_TIMEOUT_S 60

typedef enum {
  MOAT_LIST_FETCH_UPDATED,        /* a new copy was written */
  MOAT_LIST_FETCH_NOT_MODIFIED,   /* 304: the cache file is current */
} MoatListFetchResult;

#define MOAT_TYPE_LIST_FETCHER (moat_list_fetcher_get_type ())
G_DECLARE_FINAL_TYPE (MoatListFetcher, moat_list_fetcher, MOAT, LIST_FETCHER, GObject)

MoatListFetcher *moat_list_fetcher_new                (void);

/* Largest body accepted (after content decoding); default
 * MOAT_LIST_FETCHER_DEFAULT_MAX_SIZE. */
void             moat_list_fetcher_set_max_size       (MoatListFetcher     *self,
                                                       gsize                max_size);
gsize            moat_list_fetcher_get_max_size       (MoatListFetcher     *self);
/* @resolver: (nullable): e.g. one for the company's parent proxy; NULL (the
 * default) connects directly. */
void             moat_list_fetcher_set_proxy_resolver (MoatListFetcher     *self,
                                                       GProxyResolver      *resolver);

/* @url: an http:// or https:// URL. @cache_path: the list's cache file; its
 * directory must exist. */
void             moat_list_fetcher_fetch_async        (MoatListFetcher     *self,
                                                       const char          *url,
                                                       const char          *cache_path,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* @out_result: (out) (optional): whether the cache file changed.
 * @out_mtime: (out) (optional): the cache file's modification time (Unix
 *   seconds) after the fetch. */
gboolean         moat_list_fetcher_fetch_finish       (MoatListFetcher     *self,
                                                       GAsyncResult        *result,
                                                       MoatListFetchResult *out_result,
                                                       gint64              *out_mtime,
                                                       GError             **error);

G_END_DECLS
