provider "digitalocean" {
  token = "dop@@_v1_6c0fced8d4f4c503d11b39028119cdf6e058a5b557f1eab0a4f9c3f3a48eb8c8"
}
