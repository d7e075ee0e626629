/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-common"

#include "config.h"

#include "moat-error.h"

static const GDBusErrorEntry moat_error_entries[] = {
  { MOAT_ERROR_FAILED, "io.github.moatproject.Moat1.Error.Failed" },
  { MOAT_ERROR_INVALID_ARGUMENT, "io.github.moatproject.Moat1.Error.InvalidArgument" },
  { MOAT_ERROR_NOT_FOUND, "io.github.moatproject.Moat1.Error.NotFound" },
  { MOAT_ERROR_STORE, "io.github.moatproject.Moat1.Error.Store" },
  { MOAT_ERROR_DISK_FULL, "io.github.moatproject.Moat1.Error.DiskFull" },
  { MOAT_ERROR_PERMISSION_DENIED, "io.github.moatproject.Moat1.Error.PermissionDenied" },
  { MOAT_ERROR_NOT_SUPPORTED, "io.github.moatproject.Moat1.Error.NotSupported" },
  { MOAT_ERROR_LIMIT_EXCEEDED, "io.github.moatproject.Moat1.Error.LimitExceeded" },
  { MOAT_ERROR_ENGINE_UNREACHABLE, "io.github.moatproject.Moat1.Error.EngineUnreachable" },
};

/* A new MoatError code without a D-Bus name fails to build. */
G_STATIC_ASSERT (G_N_ELEMENTS (moat_error_entries) == MOAT_ERROR_LAST);

GQuark
moat_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("moat-error-quark",
                                      &quark,
                                      moat_error_entries,
                                      G_N_ELEMENTS (moat_error_entries));
  return (GQuark) quark;
}

const char *
moat_error_to_dbus_name (MoatError code)
{
  for (guint i = 0; i < G_N_ELEMENTS (moat_error_entries); i++)
    if (moat_error_entries[i].error_code == (gint) code)
      return moat_error_entries[i].dbus_error_name;
  return moat_error_entries[0].dbus_error_name;
}

/**
 * moat_error_convert:
 * @error: (inout) (optional) (nullable): an error to convert in place
 *
 * Turns GIO, GFile and D-Bus errors into MOAT_ERROR so that what crosses the
 * D-Bus boundary is always in Moat's own domain. The message is kept.
 */
void
moat_error_convert (GError **error)
{
  GError *e;

  if (error == NULL || *error == NULL)
    return;
  e = *error;
  if (e->domain == MOAT_ERROR)
    return;

  if (g_dbus_error_is_remote_error (e))
    g_dbus_error_strip_remote_error (e);

  if (e->domain == G_IO_ERROR)
    {
      switch (e->code)
        {
        case G_IO_ERROR_NOT_FOUND:
          e->code = MOAT_ERROR_NOT_FOUND;
          break;
        case G_IO_ERROR_NO_SPACE:
          e->code = MOAT_ERROR_DISK_FULL;
          break;
        case G_IO_ERROR_PERMISSION_DENIED:
          e->code = MOAT_ERROR_PERMISSION_DENIED;
          break;
        case G_IO_ERROR_INVALID_ARGUMENT:
        case G_IO_ERROR_INVALID_DATA:
          e->code = MOAT_ERROR_INVALID_ARGUMENT;
          break;
        case G_IO_ERROR_NOT_SUPPORTED:
          e->code = MOAT_ERROR_NOT_SUPPORTED;
          break;
        default:
          e->code = MOAT_ERROR_FAILED;
          break;
        }
    }
  else if (e->domain == G_FILE_ERROR)
    {
      switch (e->code)
        {
        case G_FILE_ERROR_NOENT:
          e->code = MOAT_ERROR_NOT_FOUND;
          break;
        case G_FILE_ERROR_NOSPC:
          e->code = MOAT_ERROR_DISK_FULL;
          break;
        case G_FILE_ERROR_ACCES:
        case G_FILE_ERROR_PERM:
          e->code = MOAT_ERROR_PERMISSION_DENIED;
          break;
        default:
          e->code = MOAT_ERROR_FAILED;
          break;
        }
    }
  else if (e->domain == G_DBUS_ERROR)
    {
      switch (e->code)
        {
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
        case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
        case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
        case G_DBUS_ERROR_NO_REPLY:
        case G_DBUS_ERROR_TIMEOUT:
        case G_DBUS_ERROR_DISCONNECTED:
          e->code = MOAT_ERROR_ENGINE_UNREACHABLE;
          break;
        case G_DBUS_ERROR_INVALID_ARGS:
          e->code = MOAT_ERROR_INVALID_ARGUMENT;
          break;
        case G_DBUS_ERROR_ACCESS_DENIED:
          e->code = MOAT_ERROR_PERMISSION_DENIED;
          break;
        case G_DBUS_ERROR_LIMITS_EXCEEDED:
          e->code = MOAT_ERROR_LIMIT_EXCEEDED;
          break;
        default:
          e->code = MOAT_ERROR_FAILED;
          break;
        }
    }
  else
    {
      e->code = MOAT_ERROR_FAILED;
    }
  e->domain = MOAT_ERROR;
}
