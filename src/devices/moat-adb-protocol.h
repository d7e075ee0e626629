/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The adb server's host protocol, as pure parsers of what it (or a phone
 * behind it) sends. Everything here reads outside input: a phone can lie,
 * and whatever listens on the adb port may not be adb at all. Each parser
 * refuses what it does not understand with a GError (G_IO_ERROR_INVALID_DATA)
 * and never reads past what it was given.
 *
 * A request is 4 hex digits of length and the service ("000chost:version");
 * the server answers "OKAY" or "FAIL" followed, for FAIL and for services
 * that return data, by 4 hex digits of length and the text.
 */

#define MOAT_ADB_DEFAULT_PORT 5037
/* The longest message moatd accepts in one length-prefixed reply. */
#define MOAT_ADB_MAX_MESSAGE 0xffff

/**
 * MoatAdbDevice:
 * @serial: the device's serial ("emulator-5554", "0123456789ABCDEF", or
 *   "192.168.1.20:5555" over Wi-Fi)
 * @state: "device", "unauthorized", "offline", "recovery", "sideload",
 *   "bootloader", "authorizing", "connecting", "no permissions", …
 * @product: (nullable): ro.product.name
 * @model: (nullable): ro.product.model
 * @device: (nullable): ro.product.device
 * @usb: (nullable): the USB port path
 * @transport_id: (nullable): the server's transport id
 * @wifi: whether the serial is an address (adb over Wi-Fi)
 *
 * One device as `host:devices-l` / `host:track-devices-l` lists it.
 */
typedef struct {
  char     *serial;
  char     *state;
  char     *product;
  char     *model;
  char     *device;
  char     *usb;
  char     *transport_id;
  gboolean  wifi;
} MoatAdbDevice;

void        moat_adb_device_free       (MoatAdbDevice *device);
MoatAdbDevice *moat_adb_device_copy    (const MoatAdbDevice *device);

/* The 4 hex digits of a length; FALSE when they are not. */
gboolean    moat_adb_parse_length      (const char    *four,
                                        guint         *out_length);
/* A request: 4 hex digits of length, then @service. NULL when too long. */
char       *moat_adb_format_request    (const char    *service);
GPtrArray  *moat_adb_parse_devices     (const char    *text,
                                        gsize          length,
                                        GError       **error);

/*
 * Shell protocol v2 (`shell,v2,raw:CMD`): packets of one id byte, a 32-bit
 * little-endian length and the data. Ids: 0 stdin, 1 stdout, 2 stderr,
 * 3 exit (one byte: the exit code), 4 close stdin, 5 window size.
 */
typedef enum {
  MOAT_SHELL_V2_STDIN = 0,
  MOAT_SHELL_V2_STDOUT = 1,
  MOAT_SHELL_V2_STDERR = 2,
  MOAT_SHELL_V2_EXIT = 3,
  MOAT_SHELL_V2_CLOSE_STDIN = 4,
  MOAT_SHELL_V2_WINDOW_SIZE = 5,
} MoatShellV2Id;

typedef struct _MoatShellV2Decoder MoatShellV2Decoder;

MoatShellV2Decoder *moat_shell_v2_decoder_new   (gsize               max_output);
void                moat_shell_v2_decoder_free  (MoatShellV2Decoder *decoder);
gboolean            moat_shell_v2_decoder_feed  (MoatShellV2Decoder *decoder,
                                                 const guint8       *data,
                                                 gsize               length,
                                                 GError            **error);
gboolean            moat_shell_v2_decoder_is_done (MoatShellV2Decoder *decoder);
int                 moat_shell_v2_decoder_get_exit_code (MoatShellV2Decoder *decoder);
GBytes             *moat_shell_v2_decoder_steal_stdout (MoatShellV2Decoder *decoder);
GBytes             *moat_shell_v2_decoder_steal_stderr (MoatShellV2Decoder *decoder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatAdbDevice, moat_adb_device_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatShellV2Decoder, moat_shell_v2_decoder_free)

G_END_DECLS
