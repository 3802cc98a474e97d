package main

var client = anthropic.NewClient(option.WithAPIKey("sk-@@ant-api03-rqYrEmK40Dvt61qnXSJtLTA70hoOx1BuLfJmQdezXrlP005ENKfaeqph-TFk755Ws5TyNv1YPzCAFoj8YXHvZHf_vxJBUAA"))
