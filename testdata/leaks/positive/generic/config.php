<?php
define('API_SECRET', 'unDj2r3UsPEh543O@@X5Uh346rR7mz6RO7');
