/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The parsers behind the checks of this computer, for the tests and the
 * fuzz targets.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* TCP states of /proc/net/tcp's "st" column. */
#define MOAT_TCP_LISTEN 0x0A

/* Only the first this many bytes of a file under /proc, /etc or /sys are read. */
#define MOAT_COMPUTER_HEALTH_MAX_FILE (4 * 1024 * 1024)

/**
 * MoatTcpSocket:
 * @address: the local address, printed ("0.0.0.0", "::1")
 * @port: the local port
 * @state: the kernel's TCP state (MOAT_TCP_LISTEN)
 * @loopback: the address is a loopback address (127.0.0.0/8, ::1,
 *   ::ffff:127.0.0.0/104)
 *
 * One line of /proc/net/tcp or /proc/net/tcp6.
 */
typedef struct {
  char     address[48];
  guint16  port;
  guint    state;
  gboolean loopback;
} MoatTcpSocket;

/* Parses /proc/net/tcp (@ipv6 FALSE) or tcp6 (TRUE) text as the kernel of
 * this machine's byte order writes it; lines that do not parse are counted
 * in @n_bad and skipped. Returns a GArray of MoatTcpSocket. */
GArray *moat_proc_net_tcp_parse (const char *text,
                                 gsize       len,
                                 gboolean    ipv6,
                                 guint      *n_bad);

/**
 * MoatSshdConfig:
 * @ports: (element-type guint16): the Port lines' ports, and those of
 *   ListenAddress lines that name one
 * @listen_addresses: the ListenAddress values
 * @password_authentication: (nullable): the first PasswordAuthentication
 *   value outside a Match block, lower case ("yes", "no"), %NULL when unset
 * @match_blocks: how many Match blocks there are
 * @includes: how many Include lines were followed
 */
typedef struct {
  GArray    *ports;
  GPtrArray *listen_addresses;
  char      *password_authentication;
  guint      match_blocks;
  guint      includes;
} MoatSshdConfig;

/* Reads the files an Include names (a glob pattern, as written): returns a
 * list of file contents (GBytes) in order, or NULL. */
typedef GPtrArray *(*MoatSshdIncludeFunc) (const char *pattern,
                                           gpointer    user_data);

MoatSshdConfig *moat_sshd_config_new   (void);
void            moat_sshd_config_free  (MoatSshdConfig *config);
/* Adds @text's settings to @config (sshd's rules: keywords case-insensitive,
 * the first value wins, Port and ListenAddress add up, Match blocks end the
 * global part); Include lines go through @include (nullable) up to a depth. */
void            moat_sshd_config_parse (MoatSshdConfig      *config,
                                        const char          *text,
                                        gsize                len,
                                        MoatSshdIncludeFunc  include,
                                        gpointer             user_data);

/* A forgiving INI reader for display manager settings (gdm, lightdm, sddm):
 * "[section]" lines, "key=value" lines, "#" and ";" comments; anything else
 * is skipped. Keys are "section/key", values trimmed, the last one wins. */
GHashTable *moat_ini_parse (const char *text,
                            gsize       len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatSshdConfig, moat_sshd_config_free)

G_END_DECLS
