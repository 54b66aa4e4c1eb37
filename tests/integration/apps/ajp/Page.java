/*
 * Page.java - the servlet test_ajp.py deploys in Tomcat: each request
 * calls the backend (the system property "backend", a base URL) over
 * plain HTTP with HttpURLConnection, then answers with what it got: 200,
 * or 500 when asked to fail (?fail=1). The inbound traceparent the servlet
 * saw is in the body, for the test to check what Tomcat was given.
 * ?group=G&together=N: the request first waits (up to 20 s) until N
 * requests of group G are in, so that they are served at once, each on a
 * thread of its own.
 */
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

public class Page extends HttpServlet {
    private static final ConcurrentHashMap<String, CountDownLatch> groups = new ConcurrentHashMap<>();

    private static void meet(String group, int together) {
        CountDownLatch l = groups.computeIfAbsent(group, g -> new CountDownLatch(together));
        l.countDown();
        try {
            l.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (req.getParameter("group") != null)
            meet(req.getParameter("group"), Integer.parseInt(req.getParameter("together")));
        String query = req.getQueryString();
        URL url = new URL(System.getProperty("backend") + "/from-tomcat" + (query == null ? "" : "?" + query));
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        int code = c.getResponseCode();
        try (InputStream in = code < 400 ? c.getInputStream() : c.getErrorStream()) {
            if (in != null)
                in.readAllBytes();
        }
        resp.setStatus("1".equals(req.getParameter("fail")) ? 500 : 200);
        resp.setContentType("text/plain");
        resp.getWriter().println("backend " + code + " traceparent " + req.getHeader("traceparent"));
    }
}
