"""The words of a pairing's confirmation phrase."""

# 256 short, distinct, easy-to-type words: 3 of them are 24 bits, against 5 tries.
WORDS = (
    "acid acorn acre alarm album alert alley amber angle ankle apple apron arena armor arrow atlas "
    "attic badge bagel baker bamboo banjo barn basil basin beach beard bench berry bison blade "
    "blaze blend bloom board bonus boost brave bread brick bride brisk brook brush bucket buddy "
    "cabin cable cactus camel canal candy canoe cargo carol cedar chalk charm chess chief chili "
    "cider cinema civic clamp cliff cloak clock cloud clover coach cobra cocoa comet coral couch "
    "crane crisp crown crumb crust cycle daisy dance delta denim depot diary dingo disco dock "
    "dolphin donut dozen draft drift drum eagle easel echo elbow elder ember emu envoy epoch "
    "fable falcon fancy feast fence ferry fiber fiddle field flame flask fleet flint flora flute "
    "focus forge fossil frost fudge gadget galaxy gecko giant ginger glade globe glove gnome grape "
    "gravy grove guava guide habit harbor hazel hedge heron hiker hippo honey hotel husky igloo "
    "index inlet iris ivory jacket jaguar jelly jewel jolly judge juice kayak kettle kiosk kite "
    "koala label ladder lagoon lemon level lilac linen llama lobby lotus lunar lyric magnet mango "
    "maple marble meadow melon mentor metro mint mocha molar moose mosaic motor mural nectar "
    "needle noble noodle north nutmeg oasis ocean olive onion opera orbit otter oven owl paddle "
    "panda panel parade parcel pastel pebble pepper piano pilot pixel plaza plum polar pony "
    "poppy prism pulse quail quartz quest quilt radar radio raven relay ribbon ridge river robin "
    "rocket rodeo rumba saddle salad salmon satin scarf scout shore silver sketch slope sonar "
    "spice spoon squid stamp storm sugar summit swan tango teapot tiger toast topaz tower"
).split()
