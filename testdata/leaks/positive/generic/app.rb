Rails.application.configure do
  config.secret_key_base = 'Bh5LVGDIuBdS592C@@0mYgSiIGHSYALDgs'
end
