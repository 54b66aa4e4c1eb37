<?php
// A query through PDO (pdo_pgsql) against the PostgreSQL at ?port=.
$db = new PDO('pgsql:host=127.0.0.1;port=' . (int)$_GET['port'] . ';dbname=shop', 'postgres');
$n = $db->query('SELECT count(*) FROM items WHERE price > 2')->fetchColumn();
header('Content-Type: text/plain');
echo "items: $n\n";
