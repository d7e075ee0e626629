/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-ios-fixture.h"

#include "moat-ios-plist.h"
#include "moat-ios-posture.h"

#include <string.h>

#define DEVICES_FILE "devices.plist"

struct _MoatIosFixture
{
  GObject  parent_instance;

  /* owned, immutable after construction: safe from any thread */
  char    *directory;
};

static void moat_ios_fixture_source_init (MoatIosSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MoatIosFixture, moat_ios_fixture, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (MOAT_TYPE_IOS_SOURCE,
                                                      moat_ios_fixture_source_init))

/* A recorded file, refused when larger than any answer Moat reads. */
static GBytes *
read_file (const char  *path,
           GError     **error)
{
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);

  if (mapped == NULL)
    return NULL;
  if (g_mapped_file_get_length (mapped) > MOAT_IOS_PLIST_MAX_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is larger than %d bytes",
                   path, MOAT_IOS_PLIST_MAX_SIZE);
      return NULL;
    }
  return g_mapped_file_get_bytes (mapped);
}

static GPtrArray *
moat_ios_fixture_list_devices (MoatIosSource  *source,
                               GCancellable   *cancellable,
                               GError        **error)
{
  MoatIosFixture *self = MOAT_IOS_FIXTURE (source);
  g_autofree char *path = g_build_filename (self->directory, DEVICES_FILE, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) answer = NULL;
  gsize len = 0;
  const char *data;

  bytes = read_file (path, error);
  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  answer = moat_ios_plist_parse (data, len, error);
  if (answer == NULL)
    {
      g_prefix_error (error, "usbmuxd ListDevices: ");
      return NULL;
    }
  return moat_ios_parse_device_list (answer, NULL, error);
}

static GError *
recorded_error (const char *path)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GEnumClass *klass;
  GEnumValue *value;
  char *nl;

  bytes = read_file (path, &error);
  if (bytes == NULL)
    return g_steal_pointer (&error);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  nl = strchr (text, '\n');
  if (nl == NULL || !g_utf8_validate (nl + 1, -1, NULL))
    return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not \"nick\\nmessage\"",
                        path);
  *nl = '\0';
  klass = g_type_class_ref (G_TYPE_IO_ERROR_ENUM);
  value = g_enum_get_value_by_nick (klass, text);
  error = g_error_new_literal (G_IO_ERROR, value != NULL ? value->value : G_IO_ERROR_FAILED,
                               g_strstrip (nl + 1));
  g_type_class_unref (klass);
  return g_steal_pointer (&error);
}

static GBytes *
moat_ios_fixture_query (MoatIosSource  *source,
                        const char     *udid,
                        MoatIosQuery    query,
                        GCancellable   *cancellable,
                        GError        **error)
{
  MoatIosFixture *self = MOAT_IOS_FIXTURE (source);
  const char *file = moat_ios_query_get_file (query);
  g_autofree char *path = g_build_filename (self->directory, file, NULL);
  g_autofree char *error_path = g_strconcat (path, ".error", NULL);
  g_autoptr(GPtrArray) devices = NULL;
  gboolean known = FALSE;

  devices = moat_ios_fixture_list_devices (source, cancellable, error);
  if (devices == NULL)
    return NULL;
  for (guint i = 0; i < devices->len && !known; i++)
    known = g_str_equal (((MoatIosDevice *) g_ptr_array_index (devices, i))->udid, udid);
  if (!known)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "The iPhone %s is not connected",
                   udid);
      return NULL;
    }
  if (g_file_test (error_path, G_FILE_TEST_EXISTS))
    {
      g_propagate_error (error, recorded_error (error_path));
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no recorded answer to %s",
                   moat_ios_query_get_command (query));
      return NULL;
    }
  return read_file (path, error);
}

static void
moat_ios_fixture_finalize (GObject *object)
{
  MoatIosFixture *self = MOAT_IOS_FIXTURE (object);

  g_free (self->directory);
  G_OBJECT_CLASS (moat_ios_fixture_parent_class)->finalize (object);
}

static void
moat_ios_fixture_source_init (MoatIosSourceInterface *iface)
{
  iface->list_devices = moat_ios_fixture_list_devices;
  iface->query = moat_ios_fixture_query;
}

static void
moat_ios_fixture_class_init (MoatIosFixtureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = moat_ios_fixture_finalize;
}

static void
moat_ios_fixture_init (MoatIosFixture *self)
{
}

MoatIosFixture *
moat_ios_fixture_new (const char *directory)
{
  MoatIosFixture *self;

  g_return_val_if_fail (directory != NULL, NULL);

  self = g_object_new (MOAT_TYPE_IOS_FIXTURE, NULL);
  self->directory = g_strdup (directory);
  return self;
}
