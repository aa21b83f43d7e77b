# A font with Chinese glyphs, so that the browser tests' screenshots of the
# pages in Chinese show the text (not empty boxes); the pages name it in base.css.
need 'fc-list :lang=zh | grep -q .' fonts-noto-cjk
