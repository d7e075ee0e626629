/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-adb-protocol.h"

#include <string.h>

#define MAX_DEVICES 256
#define MAX_FIELD 256

void
moat_adb_device_free (MoatAdbDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->serial);
  g_free (device->state);
  g_free (device->product);
  g_free (device->model);
  g_free (device->device);
  g_free (device->usb);
  g_free (device->transport_id);
  g_free (device);
}

MoatAdbDevice *
moat_adb_device_copy (const MoatAdbDevice *device)
{
  MoatAdbDevice *copy;

  g_return_val_if_fail (device != NULL, NULL);

  copy = g_new0 (MoatAdbDevice, 1);
  copy->serial = g_strdup (device->serial);
  copy->state = g_strdup (device->state);
  copy->product = g_strdup (device->product);
  copy->model = g_strdup (device->model);
  copy->device = g_strdup (device->device);
  copy->usb = g_strdup (device->usb);
  copy->transport_id = g_strdup (device->transport_id);
  copy->wifi = device->wifi;
  return copy;
}

/**
 * moat_adb_parse_length:
 * @four: at least 4 bytes
 *
 * Returns: whether they are 4 hex digits; their value in @out_length
 */
gboolean
moat_adb_parse_length (const char *four,
                       guint      *out_length)
{
  guint value = 0;

  g_return_val_if_fail (four != NULL, FALSE);

  for (guint i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (four[i]);

      if (digit < 0)
        return FALSE;
      value = value * 16 + (guint) digit;
    }
  if (out_length != NULL)
    *out_length = value;
  return TRUE;
}

char *
moat_adb_format_request (const char *service)
{
  gsize len;

  g_return_val_if_fail (service != NULL, NULL);

  len = strlen (service);
  if (len > MOAT_ADB_MAX_MESSAGE)
    return NULL;
  return g_strdup_printf ("%04x%s", (guint) len, service);
}

/* Only printable text from a device goes further, and not too much of it. */
static gboolean
field_ok (const char *text)
{
  gsize len = strlen (text);

  if (len == 0 || len > MAX_FIELD || !g_utf8_validate (text, len, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
serial_is_network (const char *serial)
{
  const char *colon = strrchr (serial, ':');
  guint64 port;

  /* adb's mDNS names for wireless debugging */
  if (g_str_has_prefix (serial, "adb-") && strstr (serial, "._adb-tls-") != NULL)
    return TRUE;
  if (colon == NULL || colon == serial)
    return FALSE;
  return g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL);
}

static char **
field_for_key (MoatAdbDevice *device, const char *word, const char **value)
{
  static const struct {
    const char *key;
    gsize       offset;
  } keys[] = {
    { "usb:", G_STRUCT_OFFSET (MoatAdbDevice, usb) },
    { "product:", G_STRUCT_OFFSET (MoatAdbDevice, product) },
    { "model:", G_STRUCT_OFFSET (MoatAdbDevice, model) },
    { "device:", G_STRUCT_OFFSET (MoatAdbDevice, device) },
    { "transport_id:", G_STRUCT_OFFSET (MoatAdbDevice, transport_id) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_str_has_prefix (word, keys[i].key))
      {
        *value = word + strlen (keys[i].key);
        return G_STRUCT_MEMBER_P (device, keys[i].offset);
      }
  return NULL;
}

/**
 * moat_adb_parse_devices:
 * @text: what `host:devices-l` answered, or one message of
 *   `host:track-devices-l` (without its length)
 *
 * Each line is a serial, spaces, a state (which may hold spaces: "no
 * permissions (…)") and `key:value` words. Short listings (a tab between
 * serial and state) are read too.
 *
 * Returns: (transfer container) (element-type MoatAdbDevice): the devices,
 *   or %NULL with G_IO_ERROR_INVALID_DATA
 */
GPtrArray *
moat_adb_parse_devices (const char  *text,
                        gsize        length,
                        GError     **error)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_adb_device_free);
  g_autofree char *copy = NULL;
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  if (length == 0)
    return g_steal_pointer (&devices);   /* no device */
  if (length > MOAT_ADB_MAX_MESSAGE || memchr (text, '\0', length) != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "the device list is not text");
      return NULL;
    }
  copy = g_strndup (text, length);
  lines = g_strsplit (copy, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      g_autoptr(MoatAdbDevice) device = NULL;
      g_autoptr(GString) state = g_string_new (NULL);
      guint w = 0;

      if (lines[i][0] == '\0')
        continue;
      if (devices->len == MAX_DEVICES)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "more than %d devices", MAX_DEVICES);
          return NULL;
        }
      device = g_new0 (MoatAdbDevice, 1);
      device->serial = g_strdup (words[w++]);
      for (; words[w] != NULL; w++)
        {
          const char *value = NULL;
          char **field;

          if (words[w][0] == '\0')
            continue;
          field = state->len > 0 ? field_for_key (device, words[w], &value) : NULL;
          if (field == NULL)
            {
              if (state->len > 0)
                g_string_append_c (state, ' ');
              g_string_append (state, words[w]);
              continue;
            }
          if (*field != NULL || !field_ok (value))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "line %u: a bad or repeated “%s”", i + 1, words[w]);
              return NULL;
            }
          *field = g_strdup (value);
        }
      if (!field_ok (device->serial) || state->len == 0 || !field_ok (state->str))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "line %u is not “SERIAL STATE …”", i + 1);
          return NULL;
        }
      device->state = g_string_free (g_steal_pointer (&state), FALSE);
      device->wifi = serial_is_network (device->serial);
      g_ptr_array_add (devices, g_steal_pointer (&device));
    }
  return g_steal_pointer (&devices);
}

/* ---- shell protocol v2 ---- */

struct _MoatShellV2Decoder
{
  GByteArray *out;
  GByteArray *err;
  gsize       max_output;
  guint8      header[5];
  gsize       header_have;
  guint8      id;
  guint32     remaining;
  guint8      exit_byte;
  gboolean    exited;
};

/**
 * moat_shell_v2_decoder_new:
 * @max_output: the most stdout and stderr bytes kept together; past it,
 *   feeding fails (a phone that talks without end)
 */
MoatShellV2Decoder *
moat_shell_v2_decoder_new (gsize max_output)
{
  MoatShellV2Decoder *decoder = g_new0 (MoatShellV2Decoder, 1);

  decoder->out = g_byte_array_new ();
  decoder->err = g_byte_array_new ();
  decoder->max_output = max_output;
  return decoder;
}

void
moat_shell_v2_decoder_free (MoatShellV2Decoder *decoder)
{
  if (decoder == NULL)
    return;
  g_clear_pointer (&decoder->out, g_byte_array_unref);
  g_clear_pointer (&decoder->err, g_byte_array_unref);
  g_free (decoder);
}

/**
 * moat_shell_v2_decoder_feed:
 *
 * Takes the next bytes of the stream. Fails (G_IO_ERROR_INVALID_DATA) on an
 * unknown packet id, an exit packet that is not one byte, data after the
 * exit, or more output than allowed.
 */
gboolean
moat_shell_v2_decoder_feed (MoatShellV2Decoder  *decoder,
                            const guint8        *data,
                            gsize                length,
                            GError             **error)
{
  g_return_val_if_fail (decoder != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  while (length > 0)
    {
      gsize take;

      if (decoder->exited)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "data after the exit status");
          return FALSE;
        }
      if (decoder->header_have < sizeof decoder->header)
        {
          take = MIN (length, sizeof decoder->header - decoder->header_have);
          memcpy (decoder->header + decoder->header_have, data, take);
          decoder->header_have += take;
          data += take;
          length -= take;
          if (decoder->header_have < sizeof decoder->header)
            break;
          decoder->id = decoder->header[0];
          decoder->remaining = (guint32) decoder->header[1] | (guint32) decoder->header[2] << 8 |
                               (guint32) decoder->header[3] << 16 |
                               (guint32) decoder->header[4] << 24;
          if (decoder->id > MOAT_SHELL_V2_WINDOW_SIZE)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "unknown shell packet %u", decoder->id);
              return FALSE;
            }
          if (decoder->id == MOAT_SHELL_V2_EXIT && decoder->remaining != 1)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "an exit packet of %u bytes", decoder->remaining);
              return FALSE;
            }
          if ((decoder->id == MOAT_SHELL_V2_STDOUT || decoder->id == MOAT_SHELL_V2_STDERR) &&
              (gsize) decoder->remaining > decoder->max_output - MIN (decoder->max_output,
                                                                    decoder->out->len +
                                                                    decoder->err->len))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "more than %" G_GSIZE_FORMAT " bytes of output", decoder->max_output);
              return FALSE;
            }
        }
      take = MIN (length, decoder->remaining);
      switch (decoder->id)
        {
        case MOAT_SHELL_V2_STDOUT:
          g_byte_array_append (decoder->out, data, (guint) take);
          break;
        case MOAT_SHELL_V2_STDERR:
          g_byte_array_append (decoder->err, data, (guint) take);
          break;
        case MOAT_SHELL_V2_EXIT:
          if (take > 0)
            decoder->exit_byte = data[0];
          break;
        default:
          break;   /* stdin echoes, window sizes: nothing for us */
        }
      data += take;
      length -= take;
      decoder->remaining -= (guint32) take;
      if (decoder->remaining == 0)
        {
          if (decoder->id == MOAT_SHELL_V2_EXIT)
            decoder->exited = TRUE;
          decoder->header_have = 0;
        }
    }
  return TRUE;
}

/* Whether the exit status came. */
gboolean
moat_shell_v2_decoder_is_done (MoatShellV2Decoder *decoder)
{
  g_return_val_if_fail (decoder != NULL, FALSE);
  return decoder->exited;
}

/* The exit code, or -1 before it came. */
int
moat_shell_v2_decoder_get_exit_code (MoatShellV2Decoder *decoder)
{
  g_return_val_if_fail (decoder != NULL, -1);
  return decoder->exited ? decoder->exit_byte : -1;
}

/* What the command printed; the decoder keeps nothing of it afterwards. */
GBytes *
moat_shell_v2_decoder_steal_stdout (MoatShellV2Decoder *decoder)
{
  GBytes *bytes;

  g_return_val_if_fail (decoder != NULL, NULL);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&decoder->out));
  decoder->out = g_byte_array_new ();
  return bytes;
}

GBytes *
moat_shell_v2_decoder_steal_stderr (MoatShellV2Decoder *decoder)
{
  GBytes *bytes;

  g_return_val_if_fail (decoder != NULL, NULL);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&decoder->err));
  decoder->err = g_byte_array_new ();
  return bytes;
}
