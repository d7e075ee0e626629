/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Certificate helpers the TLS probe and the trust-store check share.
 */
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <glib.h>

G_BEGIN_DECLS

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_session_t, gnutls_deinit, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_certificate_credentials_t,
                                 gnutls_certificate_free_credentials, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_pubkey_t, gnutls_pubkey_deinit, NULL)

void  moat_tls_trust_list_free  (gnutls_x509_trust_list_t list);
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_trust_list_t, moat_tls_trust_list_free, NULL)

char *moat_tls_crt_sha256       (gnutls_x509_crt_t crt);
char *moat_tls_crt_spki_pin     (gnutls_x509_crt_t crt);
char *moat_tls_crt_subject_dn   (gnutls_x509_crt_t crt);
char *moat_tls_crt_issuer_dn    (gnutls_x509_crt_t crt);
char *moat_tls_crt_display_name (gnutls_x509_crt_t crt,
                                 gboolean          issuer);

G_END_DECLS
