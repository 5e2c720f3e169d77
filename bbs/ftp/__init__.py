"""The anonymous, read-only FTP site (/pub), generated from the database's library."""
