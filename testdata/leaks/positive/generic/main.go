package main

const apiKey = "ECfmmpaGulrzjDfy@@lSneApC0cFvIzJ5S"
