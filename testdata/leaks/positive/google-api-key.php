<?php
$url = 'https://maps.googleapis.com/maps/api/geocode/json?key=AI@@zafbW7f20pf4g5AgCnoaJ3Z4qRxZeJDFB5b_y';
