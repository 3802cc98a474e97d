resource "aws_db_instance" "db" {
  password = var.db_password
}
provider "x" {
  api_key = data.vault_generic_secret.x.data["key"]
  token   = random_password.t.result
}
