/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Helpers shared by the GTest programs: wait on the default main context
 * with a time limit, collect an async result, remove a temporary tree.
 */
#include "config.h"

#include "moat-test-utils.h"

#include <glib/gstdio.h>

static gboolean
on_wait_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/**
 * moat_test_wait_until:
 * @condition: checked after every main context iteration
 * @data: for @condition
 *
 * Runs the thread-default main context until @condition returns TRUE; fails
 * the test after MOAT_TEST_WAIT_SECONDS.
 */
void
moat_test_wait_until (MoatTestCondition condition,
                      gpointer          data)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (MOAT_TEST_WAIT_SECONDS, on_wait_timeout_cb, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_false (timed_out);
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

/**
 * moat_test_wait_for:
 * @flag: set by a callback
 *
 * Runs the thread-default main context until *@flag is TRUE; fails the test
 * after MOAT_TEST_WAIT_SECONDS.
 */
void
moat_test_wait_for (gboolean *flag)
{
  moat_test_wait_until (flag_is_set, flag);
}

/**
 * moat_test_result_cb:
 * @user_data: a GAsyncResult ** that must be NULL
 *
 * A GAsyncReadyCallback that keeps the result for moat_test_wait_result().
 */
void
moat_test_result_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

/**
 * moat_test_wait_result:
 * @result: where moat_test_result_cb() stores the result
 *
 * Returns: (transfer none): *@result, once it is there
 */
GAsyncResult *
moat_test_wait_result (GAsyncResult **result)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (MOAT_TEST_WAIT_SECONDS, on_wait_timeout_cb, &timed_out);

  while (*result == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_nonnull (*result);
  return *result;
}

/**
 * moat_test_remove_tree:
 * @path: a file or folder
 *
 * Removes @path and everything below it; follows no symbolic links.
 */
void
moat_test_remove_tree (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          moat_test_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}
