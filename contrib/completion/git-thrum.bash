# bash completion for git thrum, for git's own completion framework.
#
# git's completion script (/usr/share/bash-completion/completions/git)
# calls _git_thrum for `git thrum ...`; this file only has to be sourced
# after it (`make install` puts it where bash-completion finds it, under
# the name git-thrum).  Commands, subcommands and options are read from
# `git thrum help` and `git thrum <command> -h`, so they are always those
# of the installed binary; @names come from this repository's database.

__git_thrum_commands ()
{
	git thrum help 2>/dev/null |
	sed -n 's/^   \([a-z][a-z-]*\) .*/\1/p' | grep -v '^hook$'
}

# the words that may follow "git thrum <command>" in its usage
__git_thrum_subcommands ()
{
	git thrum "$1" -h 2>&1 |
	sed -n "s/^.*git thrum $1 //p" |
	while read -r first rest; do
		case "$first" in
		\(*)
			# (start | stop | ...)
			echo "$first $rest" | sed 's/).*//; s/[(|]/ /g'
			;;
		[a-z]*)
			echo "$first"
			;;
		esac
	done | tr ' ' '\n' | grep '^[a-z]' | sort -u
}

# the options of "git thrum <command> [<subcommand>]"
__git_thrum_options ()
{
	git thrum "$1" -h 2>&1 |
	if [ -n "$2" ]; then grep "git thrum $1 $2\\b"; else cat; fi |
	grep -o -- '--[a-z][a-z-]*' | sort -u
}

# @agents, @groups and @roles known to this repository
__git_thrum_names ()
{
	{
		git thrum agent list --json 2>/dev/null |
		grep -o '"\(name\|role\)":"[^"]*"'
		git thrum group list --json 2>/dev/null |
		grep -o '"name":"[^"]*"'
	} | sed 's/^"[a-z]*":"\(.*\)"$/@\1/' | sort -u
	echo @everyone
}

_git_thrum ()
{
	local command subcommand subs prev_word="${words[cword-1]}"

	command="$(__git_find_on_cmdline "$(__git_thrum_commands | tr '\n' ' ')")"
	if [ -z "$command" ]; then
		__gitcomp "$(__git_thrum_commands | tr '\n' ' ') --help --version"
		return
	fi

	# an audience: --to @a,@b, or any word that starts with @
	if [ "$prev_word" = "--to" ] || [ "${cur#@}" != "$cur" ] ||
	   [ "${cur#*,@}" != "$cur" ]; then
		local pfx="" last="$cur"
		case "$cur" in
		*,*)
			pfx="${cur%,*},"
			last="${cur##*,}"
			;;
		esac
		__gitcomp_nl "$(__git_thrum_names)" "$pfx" "$last" ""
		return
	fi

	subs="$(__git_thrum_subcommands "$command" | tr '\n' ' ')"
	if [ -n "$subs" ]; then
		subcommand="$(__git_find_on_cmdline "$subs")"
		if [ -z "$subcommand" ]; then
			__gitcomp "$subs"
			return
		fi
	fi
	case "$cur" in
	-*)
		__gitcomp "$(__git_thrum_options "$command" "$subcommand" |
			     tr '\n' ' ')"
		;;
	esac
}
