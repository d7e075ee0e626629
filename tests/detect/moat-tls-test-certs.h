/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Test certificates made at run time with certtool: a "real" CA and an
 * "attacker" CA, each with a leaf for the same name, plus an expired leaf.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MOAT_TEST_TLS_HOST "origin.moat.test"

typedef struct {
  char *dir;
  char *real_ca;          /* PEM: CN=Moat Test Root */
  char *real_ca_key;
  char *real_leaf;        /* PEM: origin.moat.test issued by the real CA */
  char *real_leaf_key;
  char *expired_leaf;     /* PEM: origin.moat.test, real CA, 2020 */
  char *attacker_ca;      /* PEM: CN=Moat Attacker Proxy CA */
  char *attacker_leaf;    /* PEM: origin.moat.test issued by the attacker CA */
  char *attacker_leaf_key;
  char *both_cas;         /* PEM: the real and the attacker CA */
} MoatTestCerts;

MoatTestCerts *moat_test_certs_new    (GError       **error);
void           moat_test_certs_free   (MoatTestCerts *certs);
char          *moat_test_certs_pin    (const char    *pem_path,
                                       GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatTestCerts, moat_test_certs_free)

G_END_DECLS
