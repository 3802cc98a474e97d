resource "aws_db_instance" "bots" {
  username = "bots"
  password = "59ZwlApmNISROM5L@@uEVbODw109DDWBTZ"
}
