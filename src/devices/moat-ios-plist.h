/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The largest XML plist, the deepest nesting and the most values Moat reads. */
#define MOAT_IOS_PLIST_MAX_SIZE (8 * 1024 * 1024)
#define MOAT_IOS_PLIST_MAX_DEPTH 32
#define MOAT_IOS_PLIST_MAX_VALUES 200000

/*
 * An XML property list, as an iPhone's services answer and as `plistutil`
 * or `ideviceinfo -x` print it, into a GVariant:
 *
 *   <dict>    a{sv}     <array>   av       <string>  s
 *   <integer> x (t above G_MAXINT64)       <real>    d
 *   <true/>, <false/>   b       <data>    ay       <date>    s (ISO 8601)
 *
 * The answer comes from a phone, which may lie: anything that is not a
 * well-formed plist within the limits above, a dictionary key given twice,
 * a number that is not one, is refused with G_IO_ERROR_INVALID_DATA and a
 * message that says where. Binary plists are refused too (the libimobiledevice
 * source converts what it receives to XML first).
 */
GVariant *moat_ios_plist_parse (const char  *data,
                                gsize        length,
                                GError     **error);

/* Typed lookups in an a{sv} dictionary: %NULL/%FALSE when absent or of another type. */
const char *moat_ios_plist_lookup_string  (GVariant   *dict,
                                           const char *key);
gboolean    moat_ios_plist_lookup_boolean (GVariant   *dict,
                                           const char *key,
                                           gboolean   *out_value);
GVariant   *moat_ios_plist_lookup         (GVariant           *dict,
                                           const char         *key,
                                           const GVariantType *type);

G_END_DECLS
