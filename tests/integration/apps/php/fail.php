<?php
// An application error: 500.
http_response_code(500);
echo "it failed\n";
