/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MOAT_ERROR (moat_error_quark ())

/**
 * MoatError:
 * @MOAT_ERROR_FAILED: something went wrong that has no better code
 * @MOAT_ERROR_INVALID_ARGUMENT: a caller passed an argument Moat refuses
 * @MOAT_ERROR_NOT_FOUND: the thing asked for does not exist
 * @MOAT_ERROR_STORE: the event store cannot be read or written
 * @MOAT_ERROR_DISK_FULL: there is no space left to write the event store
 * @MOAT_ERROR_PERMISSION_DENIED: the caller may not do this
 * @MOAT_ERROR_NOT_SUPPORTED: this build or this system cannot do this
 * @MOAT_ERROR_LIMIT_EXCEEDED: a per-caller or per-request limit was hit
 * @MOAT_ERROR_ENGINE_UNREACHABLE: moatd is not running and could not be started
 *
 * The one public error domain of Moat. Every code has a D-Bus error name,
 * `io.github.moatproject.Moat1.Error.<Name>`, so clients see the same codes.
 */
typedef enum {
  MOAT_ERROR_FAILED,
  MOAT_ERROR_INVALID_ARGUMENT,
  MOAT_ERROR_NOT_FOUND,
  MOAT_ERROR_STORE,
  MOAT_ERROR_DISK_FULL,
  MOAT_ERROR_PERMISSION_DENIED,
  MOAT_ERROR_NOT_SUPPORTED,
  MOAT_ERROR_LIMIT_EXCEEDED,
  MOAT_ERROR_ENGINE_UNREACHABLE,
  MOAT_ERROR_LAST /*< skip >*/
} MoatError;

GQuark       moat_error_quark     (void);
const char  *moat_error_to_dbus_name (MoatError code);
void         moat_error_convert   (GError **error);

G_END_DECLS
