/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * MoatSmtpSecurity:
 * @MOAT_SMTP_SECURITY_STARTTLS: plain connection, then STARTTLS before
 *   anything else (port 587); a server without STARTTLS is refused
 * @MOAT_SMTP_SECURITY_TLS: TLS from the start (port 465)
 * @MOAT_SMTP_SECURITY_NONE: no encryption and no credentials; only to a
 *   loopback address, for tests
 */
typedef enum {
  MOAT_SMTP_SECURITY_STARTTLS,
  MOAT_SMTP_SECURITY_TLS,
  MOAT_SMTP_SECURITY_NONE,
} MoatSmtpSecurity;

const char *moat_smtp_security_to_string   (MoatSmtpSecurity  security);
gboolean    moat_smtp_security_from_string (const char       *str,
                                            MoatSmtpSecurity *out);

/* Seconds each step (connect, each command, the TLS handshake) may take. */
#define MOAT_SMTP_DEFAULT_TIMEOUT 30

/**
 * MoatSmtpOptions:
 * @host: the mail server
 * @port: its port; 0 for the security's usual one (587, 465, 25)
 * @security: how the connection is protected
 * @username: (nullable): the account; NULL or "" to send without AUTH
 * @password: (nullable): its password
 * @from: the sender's address
 * @tls_database: (nullable): the CAs to trust; NULL for the system's
 * @timeout: seconds each step may take; 0 for MOAT_SMTP_DEFAULT_TIMEOUT
 *
 * Where and how to send mail. Credentials are only ever sent over TLS.
 */
typedef struct {
  char             *host;
  guint16           port;
  MoatSmtpSecurity  security;
  char             *username;
  char             *password;
  char             *from;
  GTlsDatabase     *tls_database;
  guint             timeout;
} MoatSmtpOptions;

MoatSmtpOptions *moat_smtp_options_new       (void);
MoatSmtpOptions *moat_smtp_options_copy      (const MoatSmtpOptions *options);
void             moat_smtp_options_free      (MoatSmtpOptions       *options);
gboolean         moat_smtp_options_set_ca_file (MoatSmtpOptions     *options,
                                                const char          *path,
                                                GError             **error);
MoatSmtpOptions *moat_smtp_options_new_from_settings (GSettings     *settings,
                                                      GError       **error);

char    *moat_smtp_build_message (const char  *from,
                                  const char  *to,
                                  const char  *subject,
                                  const char  *body,
                                  GDateTime   *date,
                                  GError     **error);

void     moat_smtp_send_async    (const MoatSmtpOptions *options,
                                  const char            *to,
                                  const char            *subject,
                                  const char            *body,
                                  GCancellable          *cancellable,
                                  GAsyncReadyCallback    callback,
                                  gpointer               user_data);
gboolean moat_smtp_send_finish   (GAsyncResult          *result,
                                  GError               **error);

/* The mail server's password, in the keyring (Secret Service). */
void     moat_smtp_lookup_password_async  (const char          *server,
                                           const char          *username,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
char    *moat_smtp_lookup_password_finish (GAsyncResult        *result,
                                           GError             **error);
void     moat_smtp_store_password_async   (const char          *server,
                                           const char          *username,
                                           const char          *password,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean moat_smtp_store_password_finish  (GAsyncResult        *result,
                                           GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatSmtpOptions, moat_smtp_options_free)

G_END_DECLS
