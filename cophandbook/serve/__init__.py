"""The preview server: `cophandbook serve`."""
