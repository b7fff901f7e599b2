#ifndef THRUM_FORMAT_INTERNAL_H
#define THRUM_FORMAT_INTERNAL_H

/*
 * Shared by the files of the format module (format.c, format-work.c)
 * and by nothing else.
 */
#include <json-c/json.h>

struct work_list;

/* the work contexts of agent_id in w, as a new JSON array */
json_object *format_work_array(const struct work_list *w,
			       const char *agent_id);

/* "  on <branch>: <n> changes" for each work context of agent_id in w */
void format_work_lines(const struct work_list *w, const char *agent_id,
		       FILE *out);

#endif
