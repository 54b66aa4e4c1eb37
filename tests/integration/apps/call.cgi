#!/bin/sh
# A CGI script (behind fcgiwrap): calls the backend whose port is the query
# string with curl, passing on the context the web server gave it.
printf 'Content-Type: text/plain\r\n\r\n'
curl -sS -H "traceparent: $HTTP_TRACEPARENT" "http://127.0.0.1:$QUERY_STRING/from-cgi"
