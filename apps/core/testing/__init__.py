"""Test helpers shipped with the code: API clients with roles and the generic API test battery."""
