const openai = new OpenAI({ apiKey: 'sk-FQnbh3pfgh2BJFB9l3e4T3Blbk@@FJilL1cPxXs4n3PV0VGOX8' });
