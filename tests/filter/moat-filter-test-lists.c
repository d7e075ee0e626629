/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-filter-test-lists.h"

MoatFilterList *
moat_filter_test_load_list (const char *path, const char *name, MoatFilterCategory category)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, &error);
  g_autoptr(GBytes) bytes = NULL;
  MoatFilterList *list;

  if (file == NULL)
    {
      g_printerr ("%s: %s\n", path, error->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (file);
  list = moat_filter_list_new_from_bytes (name, category, MOAT_FILTER_FORMAT_AUTO,
                                          MOAT_FILTER_LIST_NONE, bytes, &error);
  if (list == NULL)
    g_printerr ("%s: %s\n", path, error->message);
  return list;
}

int
moat_filter_test_load_lists (const char         *assets,
                             const char * const *files,
                             GPtrArray          *lists)
{
  static const struct
  {
    const char *path, *name;
    MoatFilterCategory category;
  } defaults[] = {
    { "thirdparties/easylist/easylist.txt", "EasyList", MOAT_FILTER_CATEGORY_ADS },
    { "thirdparties/easylist/easyprivacy.txt", "EasyPrivacy", MOAT_FILTER_CATEGORY_TRACKERS },
    { "thirdparties/urlhaus-filter/urlhaus-filter-online.txt", "URLhaus", MOAT_FILTER_CATEGORY_MALWARE },
    { "ublock/badware.min.txt", "uBlock badware", MOAT_FILTER_CATEGORY_MALWARE },
  };

  if (files != NULL)
    {
      for (guint i = 0; files[i] != NULL; i++)
        {
          MoatFilterList *l = moat_filter_test_load_list (files[i], files[i],
                                                          MOAT_FILTER_CATEGORY_CUSTOM);

          if (l == NULL)
            return 1;
          g_ptr_array_add (lists, l);
        }
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    {
      g_autofree char *path = g_build_filename (assets, defaults[i].path, NULL);
      MoatFilterList *l = moat_filter_test_load_list (path, defaults[i].name, defaults[i].category);

      if (l == NULL)
        return 77;
      g_ptr_array_add (lists, l);
    }
  return 0;
}
