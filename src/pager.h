#ifndef THRUM_PAGER_H
#define THRUM_PAGER_H

/*
 * Human output as git gives it: colour and a pager, only on a terminal.
 *
 * want_color() is decided once per command, before the pager starts:
 * never when stdout is not a terminal or NO_COLOR is set, otherwise as
 * `git config --get-colorbool color.thrum` says (color.thrum, then
 * color.ui, "auto" by default).  setup_pager() sends stdout through
 * `git var GIT_PAGER` (GIT_PAGER, core.pager, PAGER, less) when stdout is
 * a terminal, with LESS=FRX and LV=-c unless set, and waits for it at
 * exit; "cat" or an empty pager means none.
 */
int want_color(const char *dir);
void setup_pager(const char *dir);

#endif
