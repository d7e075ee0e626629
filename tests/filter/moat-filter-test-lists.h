/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-filter-list.h"

G_BEGIN_DECLS

/* Shared by the filter benchmark and the differential driver. */
MoatFilterList *moat_filter_test_load_list  (const char         *path,
                                             const char         *name,
                                             MoatFilterCategory  category);
/* Loads @files (each as a custom list) or, when NULL, Debian's EasyList,
 * EasyPrivacy, URLhaus and uBlock badware lists from @assets into @lists.
 * Returns 0, 1 when a named file fails, 77 when a packaged list is missing. */
int             moat_filter_test_load_lists (const char         *assets,
                                             const char * const *files,
                                             GPtrArray          *lists);

G_END_DECLS
