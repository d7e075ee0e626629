/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-ios-source.h"

G_BEGIN_DECLS

/*
 * An iPhone's recorded answers in a directory (tests/fixtures/ios/<profile>/):
 * devices.plist is usbmuxd's ListDevices reply, each query's answer is in
 * the file moat_ios_query_get_file() names. A query whose file is missing
 * fails with G_IO_ERROR_NOT_FOUND; a file <name>.error instead records a
 * failure: its first line is a GIOErrorEnum nick ("permission-denied"), the
 * rest the message.
 */
#define MOAT_TYPE_IOS_FIXTURE (moat_ios_fixture_get_type ())
G_DECLARE_FINAL_TYPE (MoatIosFixture, moat_ios_fixture, MOAT, IOS_FIXTURE, GObject)

MoatIosFixture *moat_ios_fixture_new (const char *directory);

G_END_DECLS
