/*
 * ajp_wire.h - AJP13 packets for the AJP tests: forward requests and a body
 * packet as Apache 2.4's mod_proxy_ajp wrote them (curl through Apache to
 * a listener that recorded them), and a container's answers as Tomcat
 * writes them (SEND_HEADERS with coded header names, a body chunk with its
 * trailing NUL, END_RESPONSE with reuse).
 */
#ifndef AJP_WIRE_H
#define AJP_WIRE_H

/* GET /app/page.jsp?a=1&b=2 with the client's traceparent, copied. */
static const char AJP_GET_TP[] =
    "\x12\x34\x00\xf3"                           /* packet header: length 243 */
    "\x02\x02"                                   /* FORWARD_REQUEST, GET */
    "\x00\x08HTTP/1.1\x00"                       /* protocol */
    "\x00\x0d/app/page.jsp\x00"                  /* req_uri */
    "\x00\x09" "127.0.0.1\x00"                   /* remote_addr */
    "\xff\xff"                                   /* remote_host (null) */
    "\x00\x09" "127.0.0.1\x00"                   /* server_name */
    "\x8e\xd2\x00"                               /* server_port 36562, is_ssl 0 */
    "\x00\x04"                                   /* num_headers 4 */
    "\xa0\x0b\x00\x0f" "127.0.0.1:36562\x00"     /* Host */
    "\xa0\x0e\x00\x09" "curl/test\x00"           /* User-Agent */
    "\xa0\x01\x00\x03*/*\x00"                    /* Accept */
    "\x00\x0btraceparent\x00"                    /* a header named by a string */
    "\x00\x37" "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\x00"
    "\x05\x00\x07" "a=1&b=2\x00"                 /* query_string */
    "\x0a\x00\x0f" "AJP_REMOTE_PORT\x00\x00\x05" "50070\x00" /* req_attribute */
    "\x0a\x00\x0e" "AJP_LOCAL_ADDR\x00\x00\x09" "127.0.0.1\x00"
    "\xff";                                      /* attributes end */

/* The same request without the traceparent header. */
static const char AJP_GET[] =
    "\x12\x34\x00\xab"                           /* packet header: length 171 */
    "\x02\x02"
    "\x00\x08HTTP/1.1\x00"
    "\x00\x0d/app/page.jsp\x00"
    "\x00\x09" "127.0.0.1\x00"
    "\xff\xff"
    "\x00\x09" "127.0.0.1\x00"
    "\x8e\xd2\x00"
    "\x00\x03"                                   /* num_headers 3 */
    "\xa0\x0b\x00\x0f" "127.0.0.1:36562\x00"
    "\xa0\x0e\x00\x09" "curl/test\x00"
    "\xa0\x01\x00\x03*/*\x00"
    "\x05\x00\x07" "a=1&b=2\x00"
    "\x0a\x00\x0f" "AJP_REMOTE_PORT\x00\x00\x05" "50070\x00"
    "\x0a\x00\x0e" "AJP_LOCAL_ADDR\x00\x00\x09" "127.0.0.1\x00"
    "\xff";

/* POST /app/post with a 7-byte body (curl -d x=12345). */
static const char AJP_POST[] =
    "\x12\x34\x00\xca"                           /* packet header: length 202 */
    "\x02\x04"                                   /* FORWARD_REQUEST, POST */
    "\x00\x08HTTP/1.1\x00"
    "\x00\x09/app/post\x00"
    "\x00\x09" "127.0.0.1\x00"
    "\xff\xff"
    "\x00\x09" "127.0.0.1\x00"
    "\x8e\xd2\x00"
    "\x00\x05"                                   /* num_headers 5 */
    "\xa0\x0b\x00\x0f" "127.0.0.1:36562\x00"
    "\xa0\x0e\x00\x0b" "curl/7.88.1\x00"
    "\xa0\x01\x00\x03*/*\x00"
    "\xa0\x08\x00\x01" "7\x00"                   /* Content-Length */
    "\xa0\x07\x00!application/x-www-form-urlencoded\x00" /* Content-Type */
    "\x0a\x00\x0f" "AJP_REMOTE_PORT\x00\x00\x05" "50086\x00"
    "\x0a\x00\x0e" "AJP_LOCAL_ADDR\x00\x00\x09" "127.0.0.1\x00"
    "\xff";
/* Its body, sent unasked right after it. */
static const char AJP_POST_BODY[] = "\x12\x34\x00\x09\x00\x07x=12345";
/* The empty body packet: the body is over (the answer to a GET_BODY_CHUNK). */
static const char AJP_BODY_END[] = "\x12\x34\x00\x00";
static const char AJP_CPING[] = "\x12\x34\x00\x01\x0a";

/* From the container. */
static const char AJP_HEADERS_200[] =
    "AB\x00\x2c\x04\x00\xc8\x00\x02OK\x00\x00\x02"
    "\xa0\x01\x00\x17text/html;charset=UTF-8\x00\xa0\x03\x00\x01" "6\x00";
static const char AJP_HEADERS_500[] = "AB\x00\x08\x04\x01\xf4\x00\x00\x00\x00\x00";
static const char AJP_CHUNK[] = "AB\x00\x0a\x03\x00\x06hello\n\x00";
static const char AJP_END[] = "AB\x00\x02\x05\x01";
static const char AJP_END_CLOSE[] = "AB\x00\x02\x05\x00";
static const char AJP_GET_BODY[] = "AB\x00\x03\x06\x1f\xfa";
static const char AJP_CPONG[] = "AB\x00\x01\x09";

/* A packet's bytes and length (the arrays hold NULs: never strlen). */
#define AJP_BYTES(a) (a), (sizeof(a) - 1)

#endif
