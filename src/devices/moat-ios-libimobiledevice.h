/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-ios-source.h"

G_BEGIN_DECLS

/*
 * The real iPhones, through usbmuxd with libimobiledevice. Built only when
 * libimobiledevice-1.0 and libplist-2.0 are found (MOAT_HAVE_LIBIMOBILEDEVICE
 * is then defined for users of moat_devices_dep).
 *
 * Every call blocks, so the source is used from a worker thread (through
 * the _async functions of MoatIosSource). Reading values beyond the public
 * few pairs the phone through lockdownd's handshake: the first time, the
 * phone asks its user to trust this computer, and the query fails with
 * G_IO_ERROR_PERMISSION_DENIED saying so until they do. Errors:
 * G_IO_ERROR_CONNECTION_REFUSED when usbmuxd is not running,
 * G_IO_ERROR_NOT_FOUND when the iPhone is not connected,
 * G_IO_ERROR_NOT_SUPPORTED when its iOS lacks the service, G_IO_ERROR_TIMED_OUT
 * when it does not answer, G_IO_ERROR_FAILED otherwise.
 */
#define MOAT_TYPE_IOS_LIBIMOBILEDEVICE (moat_ios_libimobiledevice_get_type ())
G_DECLARE_FINAL_TYPE (MoatIosLibimobiledevice, moat_ios_libimobiledevice, MOAT,
                      IOS_LIBIMOBILEDEVICE, GObject)

MoatIosLibimobiledevice *moat_ios_libimobiledevice_new (void);

G_END_DECLS
