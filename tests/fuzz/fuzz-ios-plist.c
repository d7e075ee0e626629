/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * An iPhone's (or usbmuxd's) answer, the same bytes for every query: the
 * XML plist parser gives a value or G_IO_ERROR_INVALID_DATA within its
 * limits, what it gives reads as a device list and an app list without
 * harm, and the checks give one finding per check with JSON evidence
 * whatever the phone says.
 */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

#include "moat-android-apps.h"
#include "moat-ios-plist.h"
#include "moat-ios-posture.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = moat_ios_plist_parse ((const char *) data, size, &error);
  g_autoptr(GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr(MoatIosSnapshot) snapshot = moat_ios_snapshot_new ("00008120-001A2B3C4D5E6F01");
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GPtrArray) packages = NULL;

  if (value == NULL)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  else
    {
      g_autoptr(GPtrArray) devices = NULL;
      g_autoptr(GPtrArray) apps = NULL;
      g_autoptr(GError) list_error = NULL;

      g_assert_no_error (error);
      g_assert_false (g_variant_is_floating (value));
      devices = moat_ios_parse_device_list (value, NULL, &list_error);
      g_assert_true ((devices == NULL) == (list_error != NULL));
      for (guint i = 0; devices != NULL && i < devices->len; i++)
        g_assert_cmpuint (strlen (((MoatIosDevice *) g_ptr_array_index (devices, i))->udid), <=,
                          64);
      g_clear_error (&list_error);
      apps = moat_ios_parse_apps (value, NULL, &list_error);
      g_assert_true ((apps == NULL) == (list_error != NULL));
    }

  for (MoatIosQuery q = 0; q < MOAT_IOS_QUERY_LAST; q++)
    {
      moat_ios_snapshot_set_answer (snapshot, q, bytes, NULL);
      g_assert_true ((snapshot->answers[q] == NULL) != (snapshot->errors[q] == NULL) ||
                     (q == MOAT_IOS_QUERY_APPS && snapshot->apps != NULL));
    }
  findings = moat_ios_check_posture (snapshot);
  g_assert_cmpuint (findings->len, ==, 9);
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);
      g_autoptr(JsonParser) parser = json_parser_new ();

      g_assert_true (g_utf8_validate (f->summary, -1, NULL));
      g_assert_true (json_parser_load_from_data (parser, f->evidence, -1, NULL));
      g_assert_true (f->threat == NULL || moat_threat_id_is_valid (f->threat));
    }
  packages = moat_ios_apps_to_packages (snapshot->apps);
  g_assert_cmpuint (packages->len, ==, snapshot->apps != NULL ? snapshot->apps->len : 0);
  return 0;
}
