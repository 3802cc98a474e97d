fetch('/api', { headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.@@eyJzdWIiOiJib3QtMzQwMzAiLCJleHAiOjE5MDAwMDAwMDB9.o2i24ChatT5JY6nq8GO3MULsrN8juX9e3Vh2n-3N0UK' } });
