/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-adb-protocol.h"

#include <string.h>

/* The adb host protocol's parsers, on what adb 29 sends and on lies. */

static void
test_length (void)
{
  guint n = 0;
  g_autofree char *request = moat_adb_format_request ("host:version");
  g_autofree char *big = g_strnfill (MOAT_ADB_MAX_MESSAGE + 1, 'x');

  g_assert_true (moat_adb_parse_length ("000c", &n));
  g_assert_cmpuint (n, ==, 12);
  g_assert_true (moat_adb_parse_length ("FFFF", &n));
  g_assert_cmpuint (n, ==, 0xffff);
  g_assert_false (moat_adb_parse_length ("00g1", &n));
  g_assert_false (moat_adb_parse_length ("-001", &n));
  g_assert_cmpstr (request, ==, "000chost:version");
  g_assert_null (moat_adb_format_request (big));
}

static void
test_devices (void)
{
  /* As adb 29 writes host:devices-l: the serial padded to 22 columns. */
  static const char text[] =
    "emulator-5554          device product:sdk_gphone model:Pixel_7 device:panther transport_id:1\n"
    "0123456789ABCDEF       unauthorized usb:1-1 transport_id:2\n"
    "192.168.1.20:5555      offline transport_id:3\n"
    "R58M123ABC             no permissions (user in plugdev group; are your udev rules wrong?); "
    "see [http://developer.android.com/tools/device.html] usb:1-2 transport_id:4\n"
    "adb-R58M-abc._adb-tls-connect._tcp\tdevice\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = moat_adb_parse_devices (text, strlen (text), &error);
  const MoatAdbDevice *d;

  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 5);
  d = g_ptr_array_index (devices, 0);
  g_assert_cmpstr (d->serial, ==, "emulator-5554");
  g_assert_cmpstr (d->state, ==, "device");
  g_assert_cmpstr (d->product, ==, "sdk_gphone");
  g_assert_cmpstr (d->model, ==, "Pixel_7");
  g_assert_cmpstr (d->device, ==, "panther");
  g_assert_cmpstr (d->transport_id, ==, "1");
  g_assert_false (d->wifi);
  d = g_ptr_array_index (devices, 1);
  g_assert_cmpstr (d->state, ==, "unauthorized");
  g_assert_cmpstr (d->usb, ==, "1-1");
  g_assert_null (d->model);
  d = g_ptr_array_index (devices, 2);
  g_assert_cmpstr (d->state, ==, "offline");
  g_assert_true (d->wifi);
  d = g_ptr_array_index (devices, 3);
  g_assert_true (g_str_has_prefix (d->state, "no permissions (user in plugdev group;"));
  g_assert_cmpstr (d->usb, ==, "1-2");
  d = g_ptr_array_index (devices, 4);
  g_assert_cmpstr (d->state, ==, "device");
  g_assert_true (d->wifi);

  /* No devices: an empty message. */
  g_clear_pointer (&devices, g_ptr_array_unref);
  devices = moat_adb_parse_devices (NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 0);
}

static void
test_devices_bad (void)
{
  static const char *const bad[] = {
    "lonely-serial\n",
    "serial device model:a model:b\n",
    "serial device model:\n",
    "serial device model:\x01x\n",
    "ser\xffial device\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) devices = moat_adb_parse_devices (bad[i], strlen (bad[i]), &error);

      g_test_message ("case %u", i);
      g_assert_null (devices);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) devices = moat_adb_parse_devices ("a device\0b device\n", 18, &error);

    g_assert_null (devices);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
}

static void
append_packet (GByteArray *stream, guint8 id, const char *data, guint32 len)
{
  guint8 header[5] = { id, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24 };

  g_byte_array_append (stream, header, sizeof header);
  if (len > 0)
    g_byte_array_append (stream, (const guint8 *) data, len);
}

static void
test_shell_v2 (void)
{
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  g_autoptr(MoatShellV2Decoder) decoder = moat_shell_v2_decoder_new (1024);
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GError) error = NULL;

  append_packet (stream, MOAT_SHELL_V2_STDOUT, "2026-11-05\n", 11);
  append_packet (stream, MOAT_SHELL_V2_STDERR, "warning\n", 8);
  append_packet (stream, MOAT_SHELL_V2_STDOUT, "more", 4);
  append_packet (stream, MOAT_SHELL_V2_EXIT, "\x07", 1);

  /* Byte by byte, as a slow phone would send it. */
  for (guint i = 0; i < stream->len; i++)
    {
      g_assert_false (moat_shell_v2_decoder_is_done (decoder));
      g_assert_true (moat_shell_v2_decoder_feed (decoder, stream->data + i, 1, &error));
      g_assert_no_error (error);
    }
  g_assert_true (moat_shell_v2_decoder_is_done (decoder));
  g_assert_cmpint (moat_shell_v2_decoder_get_exit_code (decoder), ==, 7);
  out = moat_shell_v2_decoder_steal_stdout (decoder);
  err = moat_shell_v2_decoder_steal_stderr (decoder);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), "2026-11-05\nmore", 15);
  g_assert_cmpmem (g_bytes_get_data (err, NULL), g_bytes_get_size (err), "warning\n", 8);

  /* Nothing may follow the exit status. */
  g_assert_false (moat_shell_v2_decoder_feed (decoder, (const guint8 *) "\x01", 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_shell_v2_bad (void)
{
  struct {
    guint8      id;
    guint32     len;
    gsize       max;
  } cases[] = {
    { 9, 0, 100 },                   /* unknown id */
    { MOAT_SHELL_V2_EXIT, 4, 100 },  /* exit must be one byte */
    { MOAT_SHELL_V2_STDOUT, 101, 100 },       /* more than allowed */
    { MOAT_SHELL_V2_STDERR, G_MAXUINT32, 100 }, /* a lying length */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MoatShellV2Decoder) decoder = moat_shell_v2_decoder_new (cases[i].max);
      g_autoptr(GError) error = NULL;
      guint8 header[5] = { cases[i].id, cases[i].len & 0xff, (cases[i].len >> 8) & 0xff,
                           (cases[i].len >> 16) & 0xff, cases[i].len >> 24 };

      g_test_message ("case %u", i);
      g_assert_false (moat_shell_v2_decoder_feed (decoder, header, sizeof header, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_cmpint (moat_shell_v2_decoder_get_exit_code (decoder), ==, -1);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/adb/length", test_length);
  g_test_add_func ("/moat/adb/devices", test_devices);
  g_test_add_func ("/moat/adb/devices-bad", test_devices_bad);
  g_test_add_func ("/moat/adb/shell-v2", test_shell_v2);
  g_test_add_func ("/moat/adb/shell-v2-bad", test_shell_v2_bad);

  return g_test_run ();
}
