/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How long any test waits for something before it fails. */
#define MOAT_TEST_WAIT_SECONDS 30

typedef gboolean (*MoatTestCondition) (gpointer data);

void          moat_test_wait_for       (gboolean      *flag);
void          moat_test_wait_until     (MoatTestCondition condition,
                                        gpointer       data);
void          moat_test_result_cb      (GObject       *object,
                                        GAsyncResult  *result,
                                        gpointer       user_data);
GAsyncResult *moat_test_wait_result    (GAsyncResult **result);
void          moat_test_remove_tree    (const char    *path);

G_END_DECLS
