"""The lab: experiments on fitting with more parameters than observations.

``data`` → ``engine`` → ``experiments`` → ``store`` → ``report``; torch and numpy are
imported only inside the lab, never by the counting core.
"""
