/*
 * Fetch.java - GET one https:// URL with HttpsURLConnection, trusting any
 * certificate (the test's own, self-signed), and print the status. Run as
 * a source file: java Fetch.java URL. The JDK does TLS in Java (JSSE), not
 * through OpenSSL or GnuTLS: test_ajp.py checks what the shim sees of it.
 */
import java.net.URL;
import java.security.cert.X509Certificate;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

public class Fetch {
    public static void main(String[] args) throws Exception {
        TrustManager[] any = {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String type) {}
            public void checkServerTrusted(X509Certificate[] chain, String type) {}
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }};
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, any, null);
        HttpsURLConnection c = (HttpsURLConnection) new URL(args[0]).openConnection();
        c.setSSLSocketFactory(ctx.getSocketFactory());
        c.setHostnameVerifier((host, session) -> true);
        System.out.println(c.getResponseCode());
        c.getInputStream().readAllBytes();
    }
}
