from twilio.rest import Client
client = Client('SK@@68a73eb1b4950df0eae7af27b9ca6e38', 'api-secret')
