/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * A phone's package list, device policy dump, appops answer, lock settings
 * dump and package dump (the same bytes for all): valid names only come
 * out, and the checks give one finding per check whatever the phone says.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-android-apps.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MoatAndroidSnapshot snap = { 0 };
  g_autoptr(GPtrArray) findings = NULL;

  snap.packages = moat_android_parse_packages ((const char *) data, size, NULL);
  if (memchr (data, '\0', size) == NULL)
    {
      snap.device_admins = moat_android_parse_device_admins ((const char *) data, size);
      snap.install_allowed = moat_android_parse_package_list ((const char *) data, size);
      snap.accessibility = g_strndup ((const char *) data, MIN (size, 512));
      if (!g_utf8_validate (snap.accessibility, -1, NULL))
        g_clear_pointer (&snap.accessibility, g_free);
      snap.credential_type = moat_android_parse_credential_type ((const char *) data, size);
      if (snap.packages != NULL)
        {
          GStrv granted = moat_android_parse_granted_permissions ((const char *) data, size);

          snap.granted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                (GDestroyNotify) g_strfreev);
          for (guint i = 0; granted != NULL && i < snap.packages->len; i++)
            {
              const MoatAndroidPackage *p = g_ptr_array_index (snap.packages, i);

              g_hash_table_replace (snap.granted, g_strdup (p->name), g_strdupv (granted));
            }
          for (guint i = 0; granted != NULL && granted[i] != NULL; i++)
            g_assert_null (strchr (granted[i], ' '));
          g_strfreev (granted);
        }
    }
  for (guint i = 0; snap.packages != NULL && i < snap.packages->len; i++)
    {
      const MoatAndroidPackage *p = g_ptr_array_index (snap.packages, i);

      g_assert_cmpuint (strlen (p->name), >, 0);
      g_assert_null (strchr (p->name, ' '));
    }
  findings = moat_android_check_apps (&snap, NULL);
  g_assert_cmpuint (findings->len, ==, 11);
  moat_android_snapshot_clear (&snap);
  return 0;
}
