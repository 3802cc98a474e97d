curl -H 'Content-Type: application/json' -d '{"content":"deployed"}' https://discord.com/api/web@@hooks/611910088095669882/yNn3DXp0BaMGb7ohNNIU-klYYdNi0BX3ZaTo5WwRw3pHJny88ylcaJ-bv_GxaKZUshZl
