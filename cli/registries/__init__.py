"""Readers of AED registries: each turns one file format into ImportRecords and reasoned rejections."""
