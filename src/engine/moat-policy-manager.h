/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-policy.h"

G_BEGIN_DECLS

#define MOAT_TYPE_POLICY_MANAGER (moat_policy_manager_get_type ())
G_DECLARE_FINAL_TYPE (MoatPolicyManager, moat_policy_manager, MOAT, POLICY_MANAGER, GObject)

#define MOAT_POLICY_DEFAULT_NAME "default"

MoatPolicyManager *moat_policy_manager_new         (const char          *path);

void               moat_policy_manager_init_async  (MoatPolicyManager   *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean           moat_policy_manager_init_finish (MoatPolicyManager   *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

void               moat_policy_manager_load_async  (MoatPolicyManager   *self,
                                                    const char          *name,
                                                    const char          *text,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean           moat_policy_manager_load_finish (MoatPolicyManager   *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

MoatPolicy        *moat_policy_manager_get_policy  (MoatPolicyManager   *self);
const char        *moat_policy_manager_get_name    (MoatPolicyManager   *self);

G_END_DECLS
