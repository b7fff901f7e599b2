# Smart HTTP on 127.0.0.1 (or HTTPD_BIND, with HTTPD_URL naming
# HTTPD_HOST): lighttpd runs git-http-backend over the trash
# directory.  start_httpd sets HTTPD_URL; stop_httpd ends the server.
# Every request is logged in httpd/access.log.
# Without lighttpd and git-http-backend the prerequisite HTTPD is
# missing; a test that is nothing without them calls require_httpd.

LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
# /git/auth/<path> asks for basic auth (this user and password) and
# serves <path>; /git/forbidden/<path> answers 403
HTTPD_USER=thrum
HTTPD_PASSWORD=secret
GIT_HTTP_BACKEND=$(git --exec-path)/git-http-backend

if test -x "$LIGHTTPD" && test -x "$GIT_HTTP_BACKEND"
then
	test_set_prereq HTTPD
fi

# skip the whole test without the server
require_httpd() {
	if ! test_have_prereq HTTPD
	then
		skip_all='lighttpd or git-http-backend is missing (apt-get install lighttpd)'
		test_done
	fi
}

start_httpd() {
	root=$(pwd)
	mkdir -p httpd/www &&
	echo "$HTTPD_USER:$HTTPD_PASSWORD" >httpd/passwd &&
	port=$(( 20000 + $$ % 20000 )) &&
	tries=0 &&
	while :
	do
		cat >httpd/lighttpd.conf <<-EOF
		server.modules = ("mod_access", "mod_alias", "mod_auth",
				  "mod_authn_file", "mod_cgi", "mod_setenv",
				  "mod_accesslog")
		server.document-root = "$root/httpd/www"
		accesslog.filename = "$root/httpd/access.log"
		auth.backend = "plain"
		auth.backend.plain.userfile = "$root/httpd/passwd"
		server.bind = "${HTTPD_BIND:-127.0.0.1}"
		server.port = $port
		server.pid-file = "$root/httpd/pid"
		server.errorlog = "$root/httpd/error.log"
		alias.url = ("/git" => "$GIT_HTTP_BACKEND")
		\$HTTP["url"] =~ "^/git" {
			cgi.assign = ("" => "")
			setenv.add-environment = (
				"GIT_PROJECT_ROOT" => "$root",
				"GIT_HTTP_EXPORT_ALL" => "1"
			)
		}
		\$HTTP["url"] =~ "^/git/auth/" {
			auth.require = ("" => ("method" => "basic",
				"realm" => "thrum", "require" => "valid-user"))
		}
		\$HTTP["url"] =~ "^/git/forbidden/" {
			url.access-deny = ("")
		}
		EOF
		# -D: in the foreground, our child, so stop_httpd can reap it
		{ "$LIGHTTPD" -D -f httpd/lighttpd.conf 2>httpd/start.log &
		  echo $! >httpd/child; } &&
		wait_for 5 test -s httpd/pid &&
		break
		kill "$(cat httpd/child)" 2>/dev/null
		tries=$((tries + 1))
		test $tries -lt 20 || return 1
		port=$((port + 1))
	done &&
	HTTPD_URL="http://${HTTPD_HOST:-127.0.0.1}:$port/git"
}

stop_httpd() {
	if test -s httpd/child
	then
		kill "$(cat httpd/child)" 2>/dev/null
		wait "$(cat httpd/child)" 2>/dev/null
		rm -f httpd/pid httpd/child
	fi
	return 0
}
