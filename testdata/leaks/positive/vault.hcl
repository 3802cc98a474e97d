vault {
  address = "https://vault.internal:8200"
  token   = "hv@@s.jbv8N5n7btOSdfAzHMsh79AlKSgGXlpsRqOLAcMOrWD6oxikh0r6qR6vorcGBe9zhcI6PBFlh0Ie6DtolaWFG0w7dR"
}
