<?php
// Calls the backend at ?url= with curl (?how=curl) or a stream
// (?how=stream), and answers with what it got.
$url = $_GET['url'];
if (($_GET['how'] ?? 'curl') === 'curl') {
    $c = curl_init($url);
    curl_setopt($c, CURLOPT_RETURNTRANSFER, true);
    $body = curl_exec($c);
    $code = curl_getinfo($c, CURLINFO_RESPONSE_CODE);
    curl_close($c);
} else {
    $body = file_get_contents($url);
    $code = 200;
}
header('Content-Type: text/plain');
echo "backend said $code: ", $body, "\n";
